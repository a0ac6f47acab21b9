"""Vendor sandboxes as real processes, one fleet for the whole session, and the hooks on top.

Every test starts from the base scenario with no faults (the sandboxes reload it before each test)
and with ``AIRFLOW_CONN_CCMS_*`` variables pointing at the fleet, with small retry delays.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ccms_attendance.canonical import AttendanceRecord, RejectedRecord, Source
from ccms_attendance.periods import ServicePeriod

os.environ.setdefault("AIRFLOW_HOME", "/tmp/ccms-vendor-tests-airflow")

JANUARY = ServicePeriod(dt.date(2026, 1, 4), dt.date(2026, 1, 17))
MARCH = ServicePeriod(dt.date(2026, 3, 1), dt.date(2026, 3, 14))  # spring forward 2026-03-08
OCTOBER = ServicePeriod(dt.date(2026, 10, 18), dt.date(2026, 10, 31))
NOVEMBER = ServicePeriod(dt.date(2026, 11, 1), dt.date(2026, 11, 14))  # fall back 2026-11-01

VENDORS = (Source.ALLIANCE_CORE, Source.BRIGHTWHEEL, Source.PLAYGROUND)
_PREFIX = {Source.ALLIANCE_CORE: "CC-1", Source.BRIGHTWHEEL: "CC-2", Source.PLAYGROUND: "CC-3"}


def license_for(source: Source, kind: str) -> str:
    number = {"main": "0001-1", "dst": "0002-2", "edge": "0003-3", "empty": "0004-4"}[kind]
    return f"{_PREFIX[source]}{number}"


#: Names and birth dates that must never reach hook output.
CHILDREN = [
    {"vendor_child_key": "k-ava", "state_child_id": "1000001", "first_name": "Avaline", "last_name": "Quartermaine"},
    {"vendor_child_key": "k-leo", "state_child_id": "1000002", "first_name": "Leopoldo", "last_name": "Zabriskie"},
    # A child with a Child ID but (as the pipeline will find out) no voucher: still yielded.
    {"vendor_child_key": "k-nov", "state_child_id": "9000009", "first_name": "Ottoline", "last_name": "Vandermeer"},
    {"vendor_child_key": "k-priv", "state_child_id": None, "first_name": "Privata", "last_name": "Pennyworth"},
    {"vendor_child_key": "k-nokey", "first_name": "Absentia", "last_name": "Keyless"},
]
for _n, _child in enumerate(CHILDREN):
    _child["birth_date"] = f"2021-0{_n + 1}-1{_n}"
PERSONAL = [c[k] for c in CHILDREN for k in ("first_name", "last_name", "birth_date")]
REASONS = ("ILL", "VAC", "FAM", "OTH")


def january_days() -> list[dict]:
    """Ten weekdays x five children: mostly present (EST times), some absences with reasons."""
    days = []
    weekdays = [d for d in JANUARY.days if d.weekday() < 5]
    for d_no, day in enumerate(weekdays):
        for c_no, child in enumerate(CHILDREN):
            key = child["vendor_child_key"]
            if (d_no + c_no) % 4 == 0:
                days.append(
                    {
                        "vendor_child_key": key,
                        "date": day.isoformat(),
                        "status": "absent",
                        "reason": REASONS[(d_no + c_no) % 3],
                    }
                )
                continue
            check_in = dt.datetime.combine(day, dt.time(7, (d_no * 7 + c_no * 3) % 60))
            check_out = dt.datetime.combine(day, dt.time(16, (d_no * 11 + c_no) % 60))
            entry = {
                "vendor_child_key": key,
                "date": day.isoformat(),
                "status": "present",
                "check_in": check_in.isoformat() + "-05:00",
            }
            if (d_no + c_no) % 5 != 1:  # now and then nobody recorded the check-out
                entry["check_out"] = check_out.isoformat() + "-05:00"
            days.append(entry)
    return days


def dst_common_days() -> list[dict]:
    """Unambiguous times around both DST changes (every vendor must agree on these)."""
    return [
        # 23:30 EST on the 7th (04:30Z on the 8th), no check-out
        {"vendor_child_key": "k-ava", "date": "2026-03-07", "status": "present", "check_in": "2026-03-08T04:30:00Z"},
        {
            "vendor_child_key": "k-ava",
            "date": "2026-03-08",
            "status": "present",
            "check_in": "2026-03-08T07:45:00-04:00",
            "check_out": "2026-03-08T17:10:00-04:00",
        },
        {
            "vendor_child_key": "k-leo",
            "date": "2026-03-08",
            "status": "present",
            "check_in": "2026-03-08T00:30:00-05:00",
            "check_out": "2026-03-08T03:15:00-04:00",
        },
        {"vendor_child_key": "k-leo", "date": "2026-03-09", "status": "absent", "reason": "ILL"},
        {
            "vendor_child_key": "k-ava",
            "date": "2026-10-31",
            "status": "present",
            "check_in": "2026-10-31T23:30:00-04:00",
        },
        {
            "vendor_child_key": "k-ava",
            "date": "2026-11-01",
            "status": "present",
            "check_in": "2026-11-01T00:30:00-04:00",
            "check_out": "2026-11-01T08:00:00-05:00",
        },
        {
            "vendor_child_key": "k-leo",
            "date": "2026-11-01",
            "status": "present",
            "check_in": "2026-11-01T07:45:00-05:00",
            "check_out": "2026-11-01T17:00:00-05:00",
        },
        {"vendor_child_key": "k-leo", "date": "2026-11-02", "status": "absent", "reason": "VAC"},
    ]


def dst_edge_days() -> list[dict]:
    """Keyed-in wall-clock times that do not exist / are ambiguous (naive = as the provider typed them)."""
    return [
        {
            "vendor_child_key": "k-ava",
            "date": "2026-03-08",
            "status": "present",
            "check_in": "2026-03-08T02:30:00",
            "check_out": "2026-03-08T09:00:00",
        },
        {
            "vendor_child_key": "k-leo",
            "date": "2026-11-01",
            "status": "present",
            "check_in": "2026-11-01T01:30:00",
            "check_out": "2026-11-01T01:10:00",
        },
        {
            "vendor_child_key": "k-nov",
            "date": "2026-11-01",
            "status": "present",
            "check_in": "2026-11-01T01:20:00-05:00",
            "check_out": "2026-11-01T11:00:00-05:00",
        },
    ]


def site(source: Source, kind: str, days: list[dict]) -> dict:
    return {"vendor": str(source), "license_number": license_for(source, kind), "children": CHILDREN, "days": days}


def base_scenario(settings: dict | None = None) -> dict:
    sites = []
    for source in VENDORS:
        sites += [
            site(source, "main", january_days()),
            site(source, "dst", dst_common_days()),
            site(source, "edge", dst_edge_days()),
            site(source, "empty", []),
        ]
    return {"sites": sites, "settings": {"page_size": 50, "playground_polls_before_complete": 2, **(settings or {})}}


#: Connection extras for tests: real retries, tiny delays.
TEST_EXTRA = {
    "backoff_base_seconds": 0.02,
    "backoff_max_seconds": 0.1,
    "connect_timeout": 2,
    "read_timeout": 3,
    "max_attempts": 4,
    "max_retry_seconds": 20,
    "json_retries": 2,
    "export_poll_interval_seconds": 0.02,
}


def split(items: list) -> tuple[list[AttendanceRecord], list[RejectedRecord]]:
    return [i for i in items if isinstance(i, AttendanceRecord)], [i for i in items if isinstance(i, RejectedRecord)]


@pytest.fixture(scope="session")
def world() -> SimpleNamespace:
    """Constants and builders for the tests (conftest modules cannot be imported directly)."""
    return SimpleNamespace(
        JANUARY=JANUARY,
        MARCH=MARCH,
        OCTOBER=OCTOBER,
        NOVEMBER=NOVEMBER,
        VENDORS=VENDORS,
        CHILDREN=CHILDREN,
        PERSONAL=PERSONAL,
        license=license_for,
        base_scenario=base_scenario,
        site=site,
        january_days=january_days,
        split=split,
    )


@pytest.fixture(scope="session")
def base_scenario_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenarios") / "base.json"
    path.write_text(json.dumps(base_scenario()))
    return path


@pytest.fixture(scope="session")
def fleet(base_scenario_file, tmp_path_factory):
    from devtools.vendor_sandboxes import launch

    with launch(base_scenario_file, state_dir=tmp_path_factory.mktemp("sandbox-state")) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_sandboxes(request, monkeypatch) -> Iterator[None]:
    """Base scenario, no faults, empty stats, and connection variables for every test that uses the fleet."""
    if "fleet" not in request.fixturenames:
        yield
        return
    fleet = request.getfixturevalue("fleet")
    fleet.reload_scenario(request.getfixturevalue("base_scenario_file"))
    fleet.reset_stats()
    for name, value in fleet.airflow_conn_env(TEST_EXTRA).items():
        monkeypatch.setenv(name, value)
    yield


@pytest.fixture
def use_scenario(fleet, tmp_path) -> Callable[[dict], Path]:
    """Serve another scenario for this test only."""

    def _use(scenario: dict) -> Path:
        path = tmp_path / f"scenario-{len(list(tmp_path.glob('scenario-*')))}.json"
        path.write_text(json.dumps(scenario))
        fleet.reload_scenario(path)
        return path

    return _use


@pytest.fixture
def make_hook(fleet, monkeypatch) -> Callable[..., Any]:
    """``make_hook(source, **extra)``: a fresh hook whose connection has ``extra`` overrides."""
    from ccms_attendance.hooks import hook_for_source
    from devtools.vendor_sandboxes import CONN_IDS

    def _make(source: Source, *, password: str | None = None, **extra: Any):
        conn = fleet.connection(source, {**TEST_EXTRA, **extra})
        if password is not None:
            conn["password"] = password
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_IDS[source].upper()}", json.dumps(conn))
        return hook_for_source(source)

    return _make


@pytest.fixture
def extract(make_hook) -> Callable[..., list]:
    """``extract(source, kind, period, **extra)``: everything the hook yields for that site-period."""

    def _extract(source: Source, kind: str = "main", period: ServicePeriod = JANUARY, **extra: Any) -> list:
        hook = make_hook(source, **extra)
        try:
            return list(hook.iter_site_period(license_for(source, kind), period))
        finally:
            hook.close()

    return _extract
