"""Issue 16: a drop is validated as a whole, applied in one transaction, once per content hash.

Real PostgreSQL; the drops are the demo's sample drop (devtools/demo/drop/) and changes to it.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from support.intake_drops import change_set, copy_sample, opened, read_rows, table_state, write_rows

from ccms_attendance.intake.apply import apply_drop
from ccms_attendance.intake.errors import IntakeError
from ccms_attendance.warehouse.target import LOADER_ROLE, SYNC_ROLE


def test_sample_drop_loads_every_table(conn, tmp_path):
    folder = copy_sample(tmp_path)
    result = apply_drop(conn, opened(folder))
    assert result.applied
    for entity, table in (
        ("sites", "ref.site"),
        ("vouchers", "ref.voucher"),
        ("manual_entries", "portal.manual_entry"),
    ):
        expected = len(read_rows(folder, entity))
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == expected
    assert result.entities["vouchers"] == {
        "inserted": len(read_rows(folder, "vouchers")),
        "superseded": 0,
        "unchanged": 0,
    }
    site = conn.execute(
        "SELECT operating_weekdays, license_number, valid_from, recorded_at FROM ref.site WHERE site_id = 'S-100'"
    ).fetchone()
    assert site == ([1, 2, 3, 4, 5], "CC-00101-0", dt.date(1970, 1, 1), result.applied_at)
    email = conn.execute("SELECT email FROM ref.provider WHERE provider_id = 'P-10'").fetchone()[0]
    assert email == "office@p-10.example.org"
    recorded = conn.execute("SELECT drop_name, drop_hash, mode FROM ref.intake_drop").fetchall()
    assert recorded == [(folder.name, result.drop_hash, "snapshot")]


def test_the_same_drop_applied_twice_changes_nothing(conn, tmp_path):
    folder = copy_sample(tmp_path)
    apply_drop(conn, opened(folder))
    before = table_state(conn)
    again = apply_drop(conn, opened(folder))
    assert not again.applied
    assert table_state(conn) == before


def _bad_date(folder):
    rows = read_rows(folder, "vouchers")
    rows[4]["authorized_start"] = "2026-02-30"
    write_rows(folder, "vouchers", rows)
    return "vouchers.csv row 6 column authorized_start: bad date '2026-02-30'"


def _duplicate_key(folder):
    rows = read_rows(folder, "sites")
    rows.append({**rows[1], "license_number": "CC-99999-9"})
    write_rows(folder, "sites", rows)
    return "sites.csv row 9 column site_id,valid_from: duplicate key (site_id='S-101', valid_from='1970-01-01')"


def _unknown_site(folder):
    rows = read_rows(folder, "vouchers")
    rows[2]["site_id"] = "S-999"
    write_rows(folder, "vouchers", rows)
    return "vouchers.csv row 4 column site_id: unknown site 'S-999'"


def _wrong_header(folder):
    rows = read_rows(folder, "closures")
    renamed = [{("closed_on" if k == "closure_date" else k): v for k, v in row.items()} for row in rows]
    write_rows(folder, "closures", renamed)
    return "closures.csv row 1: wrong header: required column(s) missing: closure_date"


def _not_a_program(folder):
    rows = read_rows(folder, "vouchers")
    rows[0]["program"] = "TANF"
    write_rows(folder, "vouchers", rows)
    return "vouchers.csv row 2 column program: not one of CCDF, OMW (program='TANF')"


@pytest.mark.parametrize("spoil", [_bad_date, _duplicate_key, _unknown_site, _wrong_header, _not_a_program])
def test_a_malformed_file_refuses_the_whole_drop_and_changes_nothing(conn, tmp_path, spoil):
    apply_drop(conn, opened(copy_sample(tmp_path / "first")))
    before = table_state(conn)
    # The next drop changes a voucher (valid) in one file and spoils another file (or the same).
    folder = copy_sample(tmp_path / "second", "20261201T110000Z-snapshot")
    vouchers = read_rows(folder, "vouchers")
    vouchers[0]["authorized_end"] = "2026-11-30"
    write_rows(folder, "vouchers", vouchers)
    expected = spoil(folder)
    with pytest.raises(IntakeError) as refused:
        apply_drop(conn, opened(folder))
    assert f"20261201T110000Z-snapshot/{expected}" in str(refused.value)
    assert table_state(conn) == before


def test_a_change_set_correcting_a_voucher_end_date_is_a_new_version(conn, tmp_path):
    first = apply_drop(conn, opened(copy_sample(tmp_path)))
    voucher = read_rows(copy_sample(tmp_path / "look"), "vouchers")[0]
    folder = change_set(
        tmp_path,
        "20261202T110000Z-changes",
        {"vouchers": [{**voucher, "authorized_end": "2026-11-15"}]},
        "2026-12-02T06:00:00-05:00",
    )
    result = apply_drop(conn, opened(folder))
    assert result.entities["vouchers"] == {"inserted": 1, "superseded": 1, "unchanged": 0}
    versions = conn.execute(
        "SELECT authorized_end, recorded_at, superseded_at FROM ref.voucher WHERE voucher_id = %s ORDER BY recorded_at",
        (voucher["voucher_id"],),
    ).fetchall()
    assert versions == [(None, first.applied_at, result.applied_at), (dt.date(2026, 11, 15), result.applied_at, None)]
    assert conn.execute("SELECT count(*) FROM ref.voucher WHERE superseded_at IS NULL").fetchone()[0] == 56


def test_a_change_set_withdraws_by_key(conn, tmp_path):
    apply_drop(conn, opened(copy_sample(tmp_path)))
    closure = read_rows(copy_sample(tmp_path / "look"), "closures")[0]
    deleted = change_set(
        tmp_path,
        "20261202T110000Z-changes",
        {"closures": [{"site_id": closure["site_id"], "closure_date": closure["closure_date"], "action": "delete"}]},
        "2026-12-02T06:00:00-05:00",
    )
    assert apply_drop(conn, opened(deleted)).entities["closures"]["superseded"] == 1
    assert conn.execute("SELECT count(*) FROM ref.site_closure WHERE superseded_at IS NULL").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM ref.site_closure").fetchone()[0] == 1  # kept, superseded


def test_a_snapshot_may_not_remove_a_site_still_used(conn, tmp_path):
    apply_drop(conn, opened(copy_sample(tmp_path)))
    folder = change_set(tmp_path, "20261203T110000Z-snapshot", {}, "2026-12-03T06:00:00-05:00")
    sites = read_rows(copy_sample(tmp_path / "look"), "sites")
    write_rows(folder, "sites", [s for s in sites if s["site_id"] != "S-300"])
    (folder / "manifest.json").write_text(
        '{"mode": "snapshot", "entities": ["sites"], "exported_at": "2026-12-03T06:00:00-05:00"}'
    )
    before = table_state(conn)
    with pytest.raises(
        IntakeError,
        match=r"sites\.csv column site_id: removes 'S-300', still used by closures|"
        r"sites\.csv column site_id: removes 'S-300', still used by vouchers",
    ):
        apply_drop(conn, opened(folder))
    assert table_state(conn) == before


def test_onboarding_a_site_with_its_license_and_a_voucher_in_a_change_set(conn, tmp_path):
    """A new site arrives with its valid date; the period reads see it (and its voucher) from that day."""
    apply_drop(conn, opened(copy_sample(tmp_path)))
    folder = change_set(
        tmp_path,
        "20261204T110000Z-changes",
        {
            "providers": [{"provider_id": "P-60", "provider_name": "New Horizons LLC", "email": "hq@p-60.example.org"}],
            "sites": [
                {
                    "site_id": "S-600",
                    "provider_id": "P-60",
                    "site_name": "New Horizons",
                    "license_number": "CC-00600-1",
                    "operating_weekdays": "1 2 3 4 5",
                    "valid_from": "2026-12-09",
                }
            ],
            "license_links": [{"license_number": "CC-00600-1", "linked_from": "2026-12-09T00:00:00-05:00"}],
            "children": [{"child_id": "7200001"}],
            "vouchers": [
                {
                    "voucher_id": "V-7200001-1",
                    "child_id": "7200001",
                    "site_id": "S-600",
                    "program": "CCDF",
                    "schedule": "full_time",
                    "authorized_start": "2026-12-10",
                }
            ],
        },
        "2026-12-04T06:00:00-05:00",
    )
    apply_drop(conn, opened(folder))
    sites = "SELECT site_id FROM ref.site_for_period(now(), %s, %s) WHERE site_id = 'S-600'"
    before, onboarding = (dt.date(2026, 11, 22), dt.date(2026, 12, 5)), (dt.date(2026, 12, 6), dt.date(2026, 12, 19))
    assert conn.execute(sites, before).fetchall() == []
    assert conn.execute(sites, onboarding).fetchall() == [("S-600",)]
    vouchers = "SELECT authorized_start FROM ref.voucher_for_period(now(), %s, %s) WHERE site_id = 'S-600'"
    assert conn.execute(vouchers, before).fetchall() == []
    assert conn.execute(vouchers, onboarding).fetchall() == [(dt.date(2026, 12, 10),)]
    assert conn.execute("SELECT count(*) FROM ref.site WHERE superseded_at IS NULL").fetchone()[0] == 8


def test_the_sync_role_applies_a_drop_and_the_loader_may_not(conn, warehouse, tmp_path):
    """The DAG's connection role (<db>_sync) can do all of it; the period DAG's loader cannot write ref."""
    folder = copy_sample(tmp_path)
    with (
        psycopg.connect(warehouse.as_role(LOADER_ROLE).conninfo, autocommit=True) as loader,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        apply_drop(loader, opened(folder))
    with psycopg.connect(warehouse.as_role(SYNC_ROLE).conninfo, autocommit=True) as sync:
        assert apply_drop(sync, opened(folder)).applied
    assert conn.execute("SELECT applied_by FROM ref.intake_drop").fetchone()[0] == warehouse.as_role(SYNC_ROLE).user
