"""The intake contract: every entity a drop may carry, its file, columns, key and references.

One place for what ``docs/intake.md`` describes in words: the reader, the GX suites, the key and
reference checks and the apply step are all driven by these specs, so the contract and the code
cannot drift apart (a unit test checks that the document names every column listed here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColumnType(StrEnum):
    TEXT = "text"
    DATE = "date"  # ISO calendar day, YYYY-MM-DD, a day in the state's time zone
    TIMESTAMP = "timestamp"  # ISO 8601 instant WITH an offset (2026-11-23T09:30:00-05:00 or ...Z)
    WEEKDAYS = "weekdays"  # ISO weekdays 1 (Monday) .. 7 (Sunday), space-separated: "1 2 3 4 5"
    EMAIL = "email"


class Mode(StrEnum):
    SNAPSHOT = "snapshot"  # each listed entity's file is its whole current state
    CHANGES = "changes"  # each listed entity's file holds only new or changed rows (and deletions)


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = ColumnType.TEXT
    required: bool = True
    allowed: tuple[str, ...] = ()  # a closed list of values (TEXT columns)
    max_length: int = 200
    rule: str = ""  # said in words in docs/intake.md; enforced in validate.py
    default: str | None = None  # what an empty optional cell means
    as_typed: bool = False  # keep surrounding spaces (every other value is trimmed)


@dataclass(frozen=True)
class Reference:
    """``columns`` of this entity must name an existing row of ``entity`` (its key)."""

    columns: tuple[str, ...]
    entity: str


@dataclass(frozen=True)
class Entity:
    name: str  # the file's stem: providers.csv, sites.parquet
    table: str  # the warehouse table it lands in
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    version: str | None = None  # the valid-time column telling versions of one natural key apart
    system: str = ""  # which state system exports it
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def natural_key(self) -> tuple[str, ...]:
        """What the entity is (the key without its valid-time column): references name it."""
        return tuple(c for c in self.key if c != self.version)

    @property
    def required_names(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


#: The optional column of a change set: ``delete`` removes the row with that key.
ACTION_COLUMN = "action"
ACTIONS = ("upsert", "delete")
METHODS = ("PPP", "ALLIANCE_CORE", "BRIGHTWHEEL", "PLAYGROUND")
MANIFEST_NAME = "manifest.json"
FILE_FORMATS = ("csv", "parquet")

ID_LENGTH = 64
ALWAYS = "1970-01-01"
#: Valid time of a version of a site's or a voucher's attributes: [valid_from, valid_until).
VALID_TIME = (
    Column(
        "valid_from",
        ColumnType.DATE,
        required=False,
        default=ALWAYS,
        rule="first day this version holds; empty = always",
    ),
    Column(
        "valid_until",
        ColumnType.DATE,
        required=False,
        rule="first day it no longer holds (after valid_from); empty = open",
    ),
)
ENTITIES: tuple[Entity, ...] = (
    Entity(
        "providers",
        "ref.provider",
        (
            Column("provider_id", max_length=ID_LENGTH),
            Column("provider_name"),
            Column("email", ColumnType.EMAIL, required=False, rule="one address, local@domain"),
        ),
        key=("provider_id",),
        system="I-LEAD",
        description="A licensed provider (the business); its sites follow.",
    ),
    Entity(
        "sites",
        "ref.site",
        (
            Column("site_id", max_length=ID_LENGTH),
            Column("provider_id", max_length=ID_LENGTH),
            Column("site_name"),
            Column("license_number", max_length=40, rule="as licensing writes it, hyphens included"),
            Column("operating_weekdays", ColumnType.WEEKDAYS, rule="the days the site normally opens"),
            *VALID_TIME,
        ),
        key=("site_id", "valid_from"),
        version="valid_from",
        references=(Reference(("provider_id",), "providers"),),
        system="I-LEAD / licensing",
        description="A provider's site; CCMS data is matched to it by its license number.",
    ),
    Entity(
        "license_links",
        "ref.license_link",
        (
            Column("license_number", max_length=40),
            Column("linked_from", ColumnType.TIMESTAMP),
            Column("linked_until", ColumnType.TIMESTAMP, required=False, rule="after linked_from; empty = open"),
        ),
        key=("license_number", "linked_from"),
        version="linked_from",
        system="licensing",
        description="When a license number is linked to the program (a history: one row per linkage).",
    ),
    Entity(
        "closures",
        "ref.site_closure",
        (
            Column("site_id", max_length=ID_LENGTH),
            Column("closure_date", ColumnType.DATE),
            Column("closure_kind", allowed=("PC", "NP"), rule="PC paid closure, NP not paid"),
            Column("reason", required=False),
            Column("reported_via", required=False, allowed=METHODS, default="PPP", rule="empty = PPP"),
        ),
        key=("site_id", "closure_date"),
        references=(Reference(("site_id",), "sites"),),
        system="PPP",
        description="A day a site is closed although it normally operates.",
    ),
    Entity(
        "children",
        "ref.child",
        (
            Column("child_id", max_length=20, rule="the state child id, digits only"),
            Column("eligibility_start", ColumnType.DATE, required=False, rule="empty = first voucher's start"),
        ),
        key=("child_id",),
        system="eligibility",
        description="A child with a CCDF or On My Way Pre-K voucher (no other child is ever sent).",
    ),
    Entity(
        "vouchers",
        "ref.voucher",
        (
            Column("voucher_id", max_length=ID_LENGTH),
            Column("child_id", max_length=20),
            Column("site_id", max_length=ID_LENGTH),
            Column("program", allowed=("CCDF", "OMW")),
            Column("schedule", allowed=("full_time", "part_time")),
            Column(
                "scheduled_weekdays",
                ColumnType.WEEKDAYS,
                required=False,
                rule="required for part_time, empty for full_time",
            ),
            Column("authorized_start", ColumnType.DATE),
            Column("authorized_end", ColumnType.DATE, required=False, rule="not before authorized_start; empty = open"),
            *VALID_TIME,
        ),
        key=("voucher_id", "valid_from"),
        version="valid_from",
        references=(Reference(("child_id",), "children"), Reference(("site_id",), "sites")),
        system="eligibility",
        description="An authorization: a child's program, site, schedule and valid dates.",
    ),
    Entity(
        "data_entry_settings",
        "portal.data_entry_selection",
        (
            Column("site_id", max_length=ID_LENGTH),
            Column("method", allowed=METHODS),
            Column("effective_start", ColumnType.DATE, rule="a service period's first day"),
            Column("chosen_at", ColumnType.TIMESTAMP),
            Column("chosen_by", max_length=120),
        ),
        key=("site_id", "chosen_at"),
        references=(Reference(("site_id",), "sites"),),
        system="PPP",
        description="Every Data Entry Settings selection a site saved (PPP or its CCMS vendor).",
    ),
    Entity(
        "period_submissions",
        "portal.period_submission",
        (
            Column("site_id", max_length=ID_LENGTH),
            Column("period_start", ColumnType.DATE),
            Column("submitted_at", ColumnType.TIMESTAMP),
            Column("submitted_by", max_length=120),
        ),
        key=("site_id", "period_start"),
        references=(Reference(("site_id",), "sites"),),
        system="PPP",
        description="A site's submission of a service period in the portal.",
    ),
    Entity(
        "manual_entries",
        "portal.manual_entry",
        (
            Column("site_id", max_length=ID_LENGTH),
            Column("child_id", max_length=20, as_typed=True, rule="as typed; not checked against children"),
            Column("attendance_date", ColumnType.DATE),
            Column("day_code", allowed=("AB", "OD", "PC", "NP")),
            Column("entered_at", ColumnType.TIMESTAMP),
            Column("entered_by", max_length=120),
        ),
        key=("site_id", "child_id", "attendance_date"),
        references=(Reference(("site_id",), "sites"),),
        system="PPP",
        description="What a provider typed for a child-day, as it stands (earlier versions stay in history).",
    ),
)

BY_NAME: dict[str, Entity] = {e.name: e for e in ENTITIES}
#: Foreign-key order: an entity comes after every entity it references.
ORDER: tuple[str, ...] = tuple(e.name for e in ENTITIES)


@dataclass(frozen=True)
class Manifest:
    mode: Mode
    entities: tuple[str, ...]
    exported_at: str  # ISO instant with offset, as written
    source: str = ""
    extra: dict = field(default_factory=dict)


def entity(name: str) -> Entity:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown entity {name!r} (known: {', '.join(ORDER)})") from None
