"""Validating a drop: the header, one GX suite per entity, then what GX cannot say (keys across files).

Every problem found is collected (file, row, column, what); one problem refuses the whole drop.
The GX suites are built from the contract (``suite_for``), so each entity has exactly one, named
``intake_<entity>``; GX is imported only when a drop is validated (never at DAG parse time).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ccms_attendance.intake.contract import (
    ACTION_COLUMN,
    ACTIONS,
    BY_NAME,
    ORDER,
    ColumnType,
    Entity,
    Mode,
)
from ccms_attendance.intake.errors import IntakeError, Problem, shown
from ccms_attendance.intake.read import DropFiles, read_entity_file

DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
TIMESTAMP_RE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})$"
WEEKDAYS_RE = r"^[1-7](?: [1-7])*$"
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PATTERNS = {
    ColumnType.DATE: (DATE_RE, "not a date YYYY-MM-DD"),
    ColumnType.TIMESTAMP: (TIMESTAMP_RE, "not an ISO 8601 instant with a UTC offset"),
    ColumnType.WEEKDAYS: (WEEKDAYS_RE, "not ISO weekdays 1-7 separated by spaces"),
    ColumnType.EMAIL: (EMAIL_RE, "not an e-mail address"),
}
#: Ordered pairs (earlier, later, strictly later?) per entity.
ORDERED_PAIRS = {
    "vouchers": [("authorized_start", "authorized_end", False), ("valid_from", "valid_until", True)],
    "sites": [("valid_from", "valid_until", True)],
    "license_links": [("linked_from", "linked_until", True)],
}

CurrentKeys = Callable[[Entity, tuple[str, ...]], set[tuple[str, ...]]]


@dataclass
class EntityFrame:
    entity: Entity
    label: str  # "<drop>/<file>", as errors name it
    frame: pd.DataFrame  # text cells, "" trimmed to None; optional columns absent from the file added
    first_row: int  # number of the frame's first row in the file

    def row_number(self, position: int) -> int:
        return self.first_row + position

    def upserts(self) -> pd.DataFrame:
        if ACTION_COLUMN in self.frame:
            return self.frame[self.frame[ACTION_COLUMN].fillna("upsert") == "upsert"]
        return self.frame

    def deletes(self) -> pd.DataFrame:
        if ACTION_COLUMN in self.frame:
            return self.frame[self.frame[ACTION_COLUMN] == "delete"]
        return self.frame.iloc[:0]


def suite_for(entity: Entity, mode: Mode) -> dict[str, Any]:
    """The entity's GX suite (GX 1.x suite JSON): required, formats, closed lists, lengths, unique keys."""
    expectations: list[dict[str, Any]] = []

    def add(kind: str, meta: dict[str, str], **kwargs: Any) -> None:
        expectations.append({"type": kind, "kwargs": kwargs, "meta": meta, "severity": "critical"})

    deleting = mode is Mode.CHANGES
    for column in entity.columns:
        name = column.name
        # A change set's delete rows carry the key only: "required" applies to key columns there.
        if column.required and (not deleting or name in entity.key):
            add("expect_column_values_to_not_be_null", {"column": name, "problem": "missing value"}, column=name)
        if column.type in PATTERNS:
            regex, problem = PATTERNS[column.type]
            add("expect_column_values_to_match_regex", {"column": name, "problem": problem}, column=name, regex=regex)
        if column.allowed:
            add(
                "expect_column_values_to_be_in_set",
                {"column": name, "problem": f"not one of {', '.join(column.allowed)}"},
                column=name,
                value_set=list(column.allowed),
            )
        add(
            "expect_column_value_lengths_to_be_between",
            {"column": name, "problem": f"longer than {column.max_length} characters"},
            column=name,
            max_value=column.max_length,
        )
    meta = {"column": ",".join(entity.key), "problem": "duplicate key"}
    if len(entity.key) == 1:
        add("expect_column_values_to_be_unique", meta, column=entity.key[0])
    else:
        add("expect_compound_columns_to_be_unique", meta, column_list=list(entity.key))
    if deleting:
        add(
            "expect_column_values_to_be_in_set",
            {"column": ACTION_COLUMN, "problem": f"not one of {', '.join(ACTIONS)}"},
            column=ACTION_COLUMN,
            value_set=list(ACTIONS),
        )
    return {"name": f"intake_{entity.name}", "expectations": expectations, "meta": {}, "notes": None, "id": None}


def load_entity(drop: DropFiles, name: str) -> EntityFrame:
    """Read one file and check its header; raise (header problems make the rest meaningless)."""
    entity = BY_NAME[name]
    path = drop.files[name]
    label = f"{drop.name}/{path.name}"
    frame, first_row = read_entity_file(path, label)
    header = [str(c) for c in frame.columns]
    allowed = set(entity.column_names) | ({ACTION_COLUMN} if drop.manifest.mode is Mode.CHANGES else set())
    problems = []
    # A change set that only deletes needs the key columns (and action) alone.
    needed = entity.natural_key if drop.manifest.mode is Mode.CHANGES else entity.required_names
    missing = [c for c in needed if c not in header]
    if missing:
        problems.append(Problem(label, 1, None, f"wrong header: required column(s) missing: {', '.join(missing)}"))
    unknown = [c for c in header if c not in allowed]
    if unknown:
        shown_names = ", ".join(shown(c) for c in unknown[:5])
        problems.append(Problem(label, 1, None, f"wrong header: unknown column(s) {shown_names} (see docs/intake.md)"))
    if len(set(header)) != len(header):
        problems.append(Problem(label, 1, None, "wrong header: a column is named twice"))
    if problems:
        raise IntakeError(problems)
    for column in entity.columns:
        if column.name not in frame:
            frame[column.name] = ""
    if drop.manifest.mode is Mode.CHANGES and ACTION_COLUMN not in frame:
        frame[ACTION_COLUMN] = "upsert"
    frame = frame.reset_index(drop=True)
    for column in frame.columns:
        values = frame[column].astype(str)
        keep_spaces = column in entity.column_names and entity.column(column).as_typed
        values = values if keep_spaces else values.str.strip()
        if column == ACTION_COLUMN:
            values = values.replace("", "upsert")
        default = entity.column(column).default if column in entity.column_names else None
        frame[column] = pd.Series([v if v != "" else default for v in values], index=frame.index, dtype=object)
    return EntityFrame(entity, label, frame, first_row)


def _gx_context() -> Any:
    """One ephemeral, in-memory GX context for all of a drop's suites (creating one costs more than
    validating a reference file)."""
    from ccms_attendance.validation.gx_run import ephemeral_context, import_gx

    return import_gx(), ephemeral_context().data_sources.add_pandas("ccms_intake")


def _gx_problems(entity_frame: EntityFrame, mode: Mode, gx_context: tuple[Any, Any]) -> list[Problem]:
    from ccms_attendance.validation.gx_run import exception_message, frame_batch, validate_batch

    gx, source = gx_context
    suite = suite_for(entity_frame.entity, mode)
    batch = frame_batch(source, suite["name"], entity_frame.frame, definition="whole_file")
    # Every failing row's index comes back (the errors name rows).
    result = validate_batch(gx, batch, suite)
    problems = []
    for item in result.results:
        if item.success:
            continue
        meta = item.expectation_config.meta or {}
        column, problem = str(meta.get("column", "")), meta.get("problem", item.expectation_config.type)
        if exception_message(item.exception_info) is not None:
            problems.append(Problem(entity_frame.label, None, column, f"GX could not evaluate: {problem}"))
            continue
        for position in sorted((item.result or {}).get("unexpected_index_list") or [])[:100]:
            values = [entity_frame.frame.at[position, c] for c in column.split(",")]
            text = ", ".join(f"{c}={shown(v)}" for c, v in zip(column.split(","), values, strict=True))
            problems.append(
                Problem(entity_frame.label, entity_frame.row_number(position), column, f"{problem} ({text})")
            )
    return problems


def _parse_day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _parse_instant(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def parsed_value(kind: ColumnType, value: str) -> Any:
    if kind is ColumnType.DATE:
        return _parse_day(value)
    if kind is ColumnType.TIMESTAMP:
        return _parse_instant(value)
    if kind is ColumnType.WEEKDAYS:
        return sorted({int(d) for d in value.split()})
    return value


def _row_problems(entity_frame: EntityFrame) -> list[Problem]:
    """Calendar-valid dates and instants, required values of change-set upserts, ordered pairs,
    one site per license number, the part-time schedule rule."""
    return [
        *_calendar_problems(entity_frame),
        *_upsert_problems(entity_frame),
        *_order_problems(entity_frame),
        *_license_problems(entity_frame),
        *_schedule_problems(entity_frame),
    ]


def _calendar_problems(entity_frame: EntityFrame) -> list[Problem]:
    problems, frame = [], entity_frame.upserts()
    for column in entity_frame.entity.columns:
        if column.type not in (ColumnType.DATE, ColumnType.TIMESTAMP):
            continue
        regex = re.compile(PATTERNS[column.type][0])
        what = "bad date" if column.type is ColumnType.DATE else "bad instant"
        for position, value in frame[column.name].dropna().items():
            if regex.match(value) and parsed_value(column.type, value) is None:
                row_no = entity_frame.row_number(int(position))
                problems.append(Problem(entity_frame.label, row_no, column.name, f"{what} {shown(value)}"))
    return problems


def _upsert_problems(entity_frame: EntityFrame) -> list[Problem]:
    """A change set's upserts need every required value (the suite checks keys on every row)."""
    if ACTION_COLUMN not in entity_frame.frame:
        return []
    entity, frame = entity_frame.entity, entity_frame.upserts()
    return [
        Problem(entity_frame.label, entity_frame.row_number(int(position)), name, "missing value")
        for name in entity.required_names
        if name not in entity.key
        for position in frame.index[frame[name].isna()]
    ]


def _order_problems(entity_frame: EntityFrame) -> list[Problem]:
    problems, frame = [], entity_frame.upserts()
    for first, second, strict in ORDERED_PAIRS.get(entity_frame.entity.name, []):
        kind = entity_frame.entity.column(first).type
        word = "after" if strict else "on or after"
        for position, pair in records(frame[[first, second]].dropna(), [first, second]):
            a, b = parsed_value(kind, pair[first]), parsed_value(kind, pair[second])
            if a is not None and b is not None and (b <= a if strict else b < a):
                message = f"{second} {shown(pair[second])} must be {word} {first} {shown(pair[first])}"
                problems.append(Problem(entity_frame.label, entity_frame.row_number(position), second, message))
    return problems


def _license_problems(entity_frame: EntityFrame) -> list[Problem]:
    """Versions of one site may share a license number; two sites may not."""
    if entity_frame.entity.name != "sites":
        return []
    frame = entity_frame.upserts()
    owners = frame.groupby("license_number")["site_id"].nunique()
    return [
        Problem(
            entity_frame.label,
            entity_frame.row_number(position),
            "license_number",
            f"license number {shown(site['license_number'])} is given to more than one site",
        )
        for position, site in records(frame, ["license_number"])
        if site["license_number"] is not None and owners.get(site["license_number"], 0) > 1
    ]


def _schedule_problems(entity_frame: EntityFrame) -> list[Problem]:
    if entity_frame.entity.name != "vouchers":
        return []
    problems = []
    for position, voucher in records(entity_frame.upserts(), ["schedule", "scheduled_weekdays"]):
        part_time = voucher["schedule"] == "part_time"
        if part_time == (voucher["scheduled_weekdays"] is None) and voucher["schedule"] in ("part_time", "full_time"):
            rule = "required for a part_time voucher" if part_time else "must be empty for a full_time voucher"
            problems.append(Problem(entity_frame.label, entity_frame.row_number(position), "scheduled_weekdays", rule))
    return problems


def records(frame: pd.DataFrame, columns: list[str]) -> list[tuple[int, dict[str, Any]]]:
    """(position, row) pairs with missing cells as None (``iterrows`` would turn them into NaN)."""
    rows = frame[columns].astype(object).to_dict("records")
    return [
        (int(position), {k: (None if pd.isna(v) else v) for k, v in row.items()})
        for position, row in zip(frame.index, rows, strict=True)
    ]


def _keys(frame: pd.DataFrame, columns: tuple[str, ...]) -> set[tuple[str, ...]]:
    return set(frame[list(columns)].dropna().itertuples(index=False, name=None))


def _reference_problems(frames: dict[str, EntityFrame], mode: Mode, current_keys: CurrentKeys) -> list[Problem]:
    """Every reference resolves in the warehouse as it will be after the drop; nothing still used is removed."""
    effective: dict[str, set[tuple[str, ...]]] = {}
    for name in ORDER:
        entity = BY_NAME[name]
        natural = entity.natural_key
        if name in frames and mode is Mode.SNAPSHOT:
            effective[name] = _keys(frames[name].frame, natural)
        else:
            keys = current_keys(entity, natural)
            if name in frames:
                keys = (keys | _keys(frames[name].upserts(), natural)) - _keys(frames[name].deletes(), natural)
            effective[name] = keys
    problems = []
    for name in ORDER:
        entity = BY_NAME[name]
        for reference in entity.references:
            known = effective[reference.entity]
            if name in frames:
                upserts = frames[name].upserts()
                for position, row in records(upserts, list(reference.columns)):
                    value = tuple(row.values())
                    if None not in value and value not in known:
                        target = reference.entity.rstrip("s").replace("_", " ")
                        row_no = frames[name].row_number(int(position))
                        problems.append(
                            Problem(
                                frames[name].label,
                                row_no,
                                ",".join(reference.columns),
                                f"unknown {target} {shown(', '.join(value))}",
                            )
                        )
            if reference.entity in frames and not (name in frames and mode is Mode.SNAPSHOT):
                # Rows this drop does not replace must not lose what they reference.
                kept = current_keys(entity, reference.columns)
                if name in frames:
                    kept -= _keys(frames[name].deletes(), reference.columns)
                for value in sorted(kept - known)[:10]:
                    problems.append(
                        Problem(
                            frames[reference.entity].label,
                            None,
                            ",".join(reference.columns),
                            f"removes {shown(', '.join(value))}, still used by {name} in the warehouse",
                        )
                    )
    return problems


def validate_drop(drop: DropFiles, current_keys: CurrentKeys) -> dict[str, EntityFrame]:
    """Every file of the drop, checked; raise ``IntakeError`` listing every problem, or return the frames."""
    frames: dict[str, EntityFrame] = {}
    problems: list[Problem] = []
    for name in drop.manifest.entities:
        try:
            frames[name] = load_entity(drop, name)
        except IntakeError as error:
            problems.extend(error.problems)
    gx_context = _gx_context() if frames else (None, None)
    for entity_frame in frames.values():
        problems.extend(_gx_problems(entity_frame, drop.manifest.mode, gx_context))
        problems.extend(_row_problems(entity_frame))
    if not problems:
        problems.extend(_reference_problems(frames, drop.manifest.mode, current_keys))
    if problems:
        raise IntakeError(problems)
    return frames
