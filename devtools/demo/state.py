"""A small, realistic, deterministic state of the world: providers, sites, vouchers, portal history.

Used by ``make demo`` and by tests. Everything is generated from a seed, so the same call always
writes the same rows. The vendor side (what each CCMS would serve) is produced alongside as a
sandbox scenario, so the portal and the vendors tell one consistent story.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import pandas as pd
import psycopg

from ccms_attendance.canonical import STATE_TIMEZONE, Source
from ccms_attendance.periods import PeriodCalendar, ServicePeriod
from ccms_attendance.warehouse.bulk import copy_frame

REFERENCE_TABLES = [
    # (table, columns) in foreign-key order
    ("ref.provider", ["provider_id", "provider_name"]),
    ("ref.site", ["site_id", "provider_id", "site_name", "license_number", "operating_weekdays"]),
    ("ref.license_link", ["license_number", "linked_from", "linked_until"]),
    ("ref.site_closure", ["site_id", "closure_date", "closure_kind", "reason"]),
    ("ref.child", ["child_id", "eligibility_start"]),
    (
        "ref.voucher",
        [
            "voucher_id",
            "child_id",
            "site_id",
            "program",
            "schedule",
            "scheduled_weekdays",
            "authorized_start",
            "authorized_end",
        ],
    ),
    ("portal.data_entry_selection", ["site_id", "method", "effective_start", "chosen_at", "chosen_by"]),
    ("portal.period_submission", ["site_id", "period_start", "submitted_at", "submitted_by"]),
    ("portal.manual_entry", ["site_id", "child_id", "attendance_date", "day_code", "entered_at", "entered_by"]),
]


@dataclass(frozen=True)
class SiteSpec:
    """How one demo site is set up, in words a test can read."""

    site_id: str
    provider_id: str
    name: str
    source: Source = Source.PPP  # the method selected in Data Entry Settings for the demo period
    selected_periods_before: int = 4  # how many periods before the demo period the selection starts
    submitted_first_period: bool = True
    submitted_demo_period: bool = True
    license_linked: bool = True
    children: int = 8
    private_pay_children: int = 2  # known to the vendor only; never reported
    closures: tuple[tuple[dt.date, str], ...] = ()
    switched_back_from: Source | None = None  # a CCMS the site used before returning to PPP
    chronically_absent_children: int = 0  # absent every scheduled day (shows the absence limits)


@dataclass
class GeneratedState:
    period: ServicePeriod
    tables: dict[str, pd.DataFrame]
    scenario: dict = field(default_factory=dict)  # vendor sandbox scenario (see docs/vendors.md)


def _local(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=STATE_TIMEZONE)


def default_sites(period: ServicePeriod) -> list[SiteSpec]:
    return [
        SiteSpec(
            "S-100", "P-10", "Sunrise Early Learning - Main St", closures=((period.start + dt.timedelta(days=3), "PC"),)
        ),
        SiteSpec("S-101", "P-10", "Sunrise Early Learning - Oak Ave", Source.BRIGHTWHEEL),
        SiteSpec("S-102", "P-10", "Sunrise Early Learning - Elm Ct", Source.ALLIANCE_CORE),
        SiteSpec(
            "S-200",
            "P-20",
            "Little Oaks Child Care",
            switched_back_from=Source.BRIGHTWHEEL,
            chronically_absent_children=1,
        ),
        SiteSpec("S-300", "P-30", "Kidz Kampus", Source.PLAYGROUND),
        SiteSpec(
            "S-400",
            "P-40",
            "Maple Tree Preschool",
            Source.BRIGHTWHEEL,
            submitted_first_period=False,
            submitted_demo_period=False,
        ),
        SiteSpec("S-500", "P-50", "Bright Futures Academy", Source.ALLIANCE_CORE, license_linked=False),
    ]


#: ISO weekdays of part-time vouchers, handed out in turn.
PART_TIME_SCHEDULES = ((1, 3, 5), (2, 4), (1, 2, 3))

PROVIDER_NAMES = {
    "P-10": "Sunrise Early Learning LLC",
    "P-20": "Little Oaks Child Care",
    "P-30": "Kidz Kampus Inc.",
    "P-40": "Maple Tree Preschool",
    "P-50": "Bright Futures Academy",
}


def generate_state(
    calendar: PeriodCalendar,
    period: ServicePeriod,
    sites: list[SiteSpec] | None = None,
    seed: int = 20261108,
    absence_rate: float = 0.08,
) -> GeneratedState:
    rng = random.Random(seed)
    sites = sites if sites is not None else default_sites(period)
    history_start = period.start - dt.timedelta(days=26 * 7)
    rows: dict[str, list[dict]] = {table: [] for table, _ in REFERENCE_TABLES}
    scenario_sites: list[dict] = []
    providers = sorted({s.provider_id for s in sites})
    rows["ref.provider"] = [
        {"provider_id": p, "provider_name": PROVIDER_NAMES.get(p, f"Provider {p}")} for p in providers
    ]
    child_seq = 0
    for site_no, spec in enumerate(sites):
        license_number = f"CC-{site_no + 101:05d}-{(site_no * 7) % 10}"
        _site_rows(rows, spec, license_number, history_start)
        _portal_history(rows, spec, calendar, period, history_start)
        voucher_children = _vouchers(rows, rng, spec, child_seq, history_start)
        child_seq += spec.children
        # One child's voucher ends mid-period: days after it are not enrolled.
        if rows["ref.voucher"] and spec.children:
            rows["ref.voucher"][-1]["authorized_end"] = period.start + dt.timedelta(days=8)

        open_days = [d for d in period.days if d.isoweekday() <= 5 and d not in {c for c, _ in spec.closures}]
        attendance = _attendance(rows, rng, spec, voucher_children, open_days, absence_rate)
        if not spec.source.is_ccms or spec.switched_back_from:
            _portal_absences(rows, spec, attendance, period)
        if spec.source.is_ccms:
            scenario_sites.append(_vendor_site(rng, spec, license_number, voucher_children, attendance, open_days))
            if spec.submitted_first_period and spec.license_linked and voucher_children:
                # The portal is read-only under a CCMS, yet someone typed an absence anyway.
                rows["portal.manual_entry"].append(
                    {
                        "site_id": spec.site_id,
                        "child_id": voucher_children[0],
                        "attendance_date": open_days[0],
                        "day_code": "AB",
                        "entered_at": _local(period.end + dt.timedelta(days=1), 16, 5),
                        "entered_by": f"assistant@{spec.site_id.lower()}",
                    }
                )
    tables = {table: pd.DataFrame(rows[table], columns=columns) for table, columns in REFERENCE_TABLES}
    return GeneratedState(period=period, tables=tables, scenario={"sites": scenario_sites})


def _site_rows(rows: dict[str, list[dict]], spec: SiteSpec, license_number: str, history_start: dt.date) -> None:
    """The site, its license linkage and its closures."""
    rows["ref.site"].append(
        {
            "site_id": spec.site_id,
            "provider_id": spec.provider_id,
            "site_name": spec.name,
            "license_number": license_number,
            "operating_weekdays": [1, 2, 3, 4, 5],
        }
    )
    if spec.license_linked:
        rows["ref.license_link"].append(
            {"license_number": license_number, "linked_from": _local(history_start, 0, 0), "linked_until": None}
        )
    for day, kind in spec.closures:
        rows["ref.site_closure"].append(
            {"site_id": spec.site_id, "closure_date": day, "closure_kind": kind, "reason": "program closed"}
        )


def _vouchers(
    rows: dict[str, list[dict]], rng: random.Random, spec: SiteSpec, child_seq: int, history_start: dt.date
) -> list[str]:
    """``spec.children`` children with one voucher each at the site (numbered on from ``child_seq``)."""
    voucher_children = []
    for _ in range(spec.children):
        child_seq += 1
        child_id = f"{7100000 + child_seq}"
        program = "OMW" if rng.random() < 0.15 else "CCDF"
        full_time = rng.random() < 0.85
        rows["ref.child"].append({"child_id": child_id, "eligibility_start": history_start})
        rows["ref.voucher"].append(
            {
                "voucher_id": f"V-{child_id}-1",
                "child_id": child_id,
                "site_id": spec.site_id,
                "program": program,
                "schedule": "full_time" if full_time else "part_time",
                "scheduled_weekdays": None if full_time else PART_TIME_SCHEDULES[child_seq % 3],
                "authorized_start": history_start,
                "authorized_end": None,
            }
        )
        voucher_children.append(child_id)
    return voucher_children


def _attendance(
    rows: dict[str, list[dict]],
    rng: random.Random,
    spec: SiteSpec,
    voucher_children: list[str],
    open_days: list[dt.date],
    absence_rate: float,
) -> dict[str, dict[dt.date, bool]]:
    """Who is present on which expected day (``False``: absent)."""
    attendance = {child_id: {day: rng.random() >= absence_rate for day in open_days} for child_id in voucher_children}
    for child_id in voucher_children[: spec.chronically_absent_children]:
        attendance[child_id] = dict.fromkeys(open_days, False)
    # A part-time child is expected on scheduled days only: nobody records the other days (OD).
    schedules = {v["child_id"]: v["scheduled_weekdays"] for v in rows["ref.voucher"]}
    for child_id, days in attendance.items():
        if (weekdays := schedules[child_id]) is not None:
            attendance[child_id] = {d: present for d, present in days.items() if d.isoweekday() in weekdays}
    return attendance


def _portal_absences(
    rows: dict[str, list[dict]], spec: SiteSpec, attendance: dict[str, dict[dt.date, bool]], period: ServicePeriod
) -> None:
    """The absences a director types into the portal (a PPP site, or one back on PPP)."""
    for child_id, days in attendance.items():
        for day, present in days.items():
            if not present:
                rows["portal.manual_entry"].append(
                    {
                        "site_id": spec.site_id,
                        "child_id": child_id,
                        "attendance_date": day,
                        "day_code": "AB",
                        "entered_at": _local(period.end + dt.timedelta(days=2), 9, 30),
                        "entered_by": f"director@{spec.site_id.lower()}",
                    }
                )


def _portal_history(rows, spec: SiteSpec, calendar: PeriodCalendar, period: ServicePeriod, history_start) -> None:
    periods = calendar.periods_between(history_start, period.start - dt.timedelta(days=1))
    selection_start = periods[-spec.selected_periods_before] if len(periods) >= spec.selected_periods_before else None
    if spec.submitted_first_period:
        for past in periods:
            rows["portal.period_submission"].append(
                {
                    "site_id": spec.site_id,
                    "period_start": past.start,
                    "submitted_at": _local(past.end + dt.timedelta(days=3), 10, 0),
                    "submitted_by": f"director@{spec.site_id.lower()}",
                }
            )
    if spec.submitted_demo_period:
        rows["portal.period_submission"].append(
            {
                "site_id": spec.site_id,
                "period_start": period.start,
                "submitted_at": _local(period.end + dt.timedelta(days=3), 10, 0),
                "submitted_by": f"director@{spec.site_id.lower()}",
            }
        )
    chooser = f"director@{spec.site_id.lower()}"
    if spec.switched_back_from and selection_start is not None:
        rows["portal.data_entry_selection"].append(
            {
                "site_id": spec.site_id,
                "method": str(spec.switched_back_from),
                "effective_start": selection_start.start,
                "chosen_at": _local(selection_start.start - dt.timedelta(days=10), 11, 0),
                "chosen_by": chooser,
            }
        )
        rows["portal.data_entry_selection"].append(
            {
                "site_id": spec.site_id,
                "method": "PPP",
                "effective_start": period.start,
                "chosen_at": _local(period.start - dt.timedelta(days=9), 14, 30),
                "chosen_by": chooser,
            }
        )
    elif spec.source.is_ccms and selection_start is not None:
        rows["portal.data_entry_selection"].append(
            {
                "site_id": spec.site_id,
                "method": str(spec.source),
                "effective_start": selection_start.start,
                "chosen_at": _local(selection_start.start - dt.timedelta(days=10), 11, 0),
                "chosen_by": chooser,
            }
        )


def _vendor_site(rng, spec: SiteSpec, license_number: str, voucher_children, attendance, open_days) -> dict:
    children, days = [], []
    keys = [(f"k-{child_id}", child_id) for child_id in voucher_children]
    keys += [(f"k-{spec.site_id}-pp{n}", None) for n in range(spec.private_pay_children)]
    for key, child_id in keys:
        children.append(
            {
                "vendor_child_key": key,
                "state_child_id": child_id,
                "first_name": rng.choice(["Ava", "Liam", "Mia", "Noah", "Zoe", "Eli", "Ivy", "Leo"]),
                "last_name": rng.choice(["Smith", "García", "Nguyen", "Okafor", "Kowalski", "Patel"]),
                "birth_date": f"20{rng.randint(20, 23)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            }
        )
        for day in open_days:
            if child_id and day not in attendance[child_id]:
                continue  # a part-time child's unscheduled day
            present = attendance[child_id][day] if child_id else rng.random() > 0.1
            if present:
                check_in = _local(day, 7 + rng.randint(0, 1), rng.randint(0, 59))
                check_out = _local(day, 15 + rng.randint(0, 2), rng.randint(0, 59))
                days.append(
                    {
                        "vendor_child_key": key,
                        "date": day.isoformat(),
                        "status": "present",
                        "check_in": check_in.isoformat(),
                        "check_out": check_out.isoformat(),
                    }
                )
            else:
                days.append(
                    {
                        "vendor_child_key": key,
                        "date": day.isoformat(),
                        "status": "absent",
                        "reason": rng.choice(["ILL", "VAC", "FAM", "OTH"]),
                    }
                )
    return {"vendor": str(spec.source), "license_number": license_number, "children": children, "days": days}


def write_state(conn: psycopg.Connection, state: GeneratedState) -> None:
    """Replace the reference and portal tables with ``state`` (one transaction)."""
    with conn.transaction():
        conn.execute(
            "TRUNCATE ref.provider, ref.site, ref.license_link, ref.site_closure, ref.child, ref.voucher,"
            " portal.data_entry_selection, portal.period_submission, portal.manual_entry RESTART IDENTITY CASCADE"
        )
        for table, columns in REFERENCE_TABLES:
            frame = state.tables[table]
            for column in ("operating_weekdays", "scheduled_weekdays"):
                if column in frame:
                    frame = frame.assign(**{column: frame[column].map(_pg_array)})
            copy_frame(conn, table, frame, columns)


def _pg_array(days) -> str | None:
    """A list of weekdays as a PostgreSQL array literal (None stays NULL)."""
    return None if days is None else "{" + ",".join(map(str, days)) + "}"
