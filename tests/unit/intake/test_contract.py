"""The intake contract and its readers, without a warehouse: manifests, headers, cells, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from support.intake_drops import SAMPLE_DROP, write_rows

from ccms_attendance.intake.contract import BY_NAME, ENTITIES, ORDER
from ccms_attendance.intake.errors import IntakeError, Problem
from ccms_attendance.intake.read import open_drop, parse_manifest, storage_path
from ccms_attendance.intake.validate import validate_drop
from ccms_attendance.paths import PROJECT_ROOT

NO_WAREHOUSE = lambda entity, columns: set()  # noqa: E731 - an empty warehouse, for the validator


def _drop(root: Path, files: dict[str, list[dict[str, str]]], mode: str = "snapshot") -> Path:
    folder = root / "20261201T110000Z-test"
    folder.mkdir(parents=True)
    for entity, rows in files.items():
        write_rows(folder, entity, rows)
    manifest = {"mode": mode, "entities": list(files), "exported_at": "2026-12-01T06:00:00-05:00"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def _problems(folder: Path) -> list[str]:
    with pytest.raises(IntakeError) as refused:
        validate_drop(open_drop(storage_path(str(folder))), NO_WAREHOUSE)
    return [str(p) for p in refused.value.problems]


PROVIDER = {"provider_id": "P-1", "provider_name": "Provider One", "email": ""}
SITE = {
    "site_id": "S-1",
    "provider_id": "P-1",
    "site_name": "One",
    "license_number": "CC-1",
    "operating_weekdays": "1 2 3 4 5",
}


def test_entities_are_in_reference_order():
    for position, entity in enumerate(ENTITIES):
        for reference in entity.references:
            assert ORDER.index(reference.entity) < position, (entity.name, reference.entity)


def test_the_sample_drop_is_what_the_demo_generator_writes(tmp_path):
    from ccms_attendance.periods import load_calendar
    from devtools.demo.__main__ import DEMO_DAY
    from devtools.demo.drop import write_drop
    from devtools.demo.state import generate_state

    calendar = load_calendar()
    folder = write_drop(generate_state(calendar, calendar.period_containing(DEMO_DAY)), tmp_path)
    assert folder.name == SAMPLE_DROP.name
    written = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert written == {p.name: p.read_bytes() for p in SAMPLE_DROP.iterdir()}


def test_the_contract_document_names_every_entity_and_column():
    text = (PROJECT_ROOT / "docs" / "intake.md").read_text()
    for entity in ENTITIES:
        assert f"`{entity.name}`" in text, entity.name
        for column in entity.columns:
            assert f"`{column.name}`" in text, (entity.name, column.name)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"mode": "full", "entities": ["sites"], "exported_at": "2026-12-01T00:00:00Z"}, "mode must be"),
        ({"mode": "snapshot", "entities": ["sitez"], "exported_at": "2026-12-01T00:00:00Z"}, "unknown entities sitez"),
        ({"mode": "snapshot", "entities": ["sites"], "exported_at": "2026-12-01T00:00:00"}, "needs a UTC offset"),
        ({"mode": "snapshot", "entities": ["sites"]}, "missing key(s): exported_at"),
    ],
)
def test_a_bad_manifest_is_refused_with_the_reason(manifest, message):
    with pytest.raises(IntakeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_manifest(json.dumps(manifest).encode(), "d/manifest.json")


def test_a_listed_file_missing_and_an_unlisted_file_are_refused(tmp_path):
    folder = _drop(tmp_path, {"providers": [PROVIDER]})
    (folder / "sites.csv").write_text("site_id\n")
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "entities": ["providers", "children"]}))
    with pytest.raises(IntakeError) as refused:
        open_drop(storage_path(str(folder)))
    text = str(refused.value)
    assert "children.csv: the manifest lists it but there is no file" in text
    assert "sites.csv: an entity file the manifest does not list" in text


def test_row_level_problems_name_file_row_column_and_value(tmp_path):
    sites = [
        SITE,
        {**SITE, "site_id": "S-2", "operating_weekdays": "Mon-Fri"},
        {**SITE, "site_id": "S-3", "license_number": "CC-3", "provider_id": "P-9"},
    ]
    providers = [PROVIDER, {**PROVIDER, "provider_id": "P-2", "email": "not-an-address"}]
    problems = _problems(_drop(tmp_path, {"providers": providers, "sites": sites}))
    label = "20261201T110000Z-test"
    assert f"{label}/providers.csv row 3 column email: not an e-mail address (email='not-an-address')" in problems
    assert (
        f"{label}/sites.csv row 3 column operating_weekdays: not ISO weekdays 1-7 separated by spaces"
        " (operating_weekdays='Mon-Fri')"
    ) in problems
    # S-1 and S-2 share CC-1: both rows are named.
    assert (
        f"{label}/sites.csv row 2 column license_number: license number 'CC-1' is given to more than one site"
        in problems
    )
    assert (
        f"{label}/sites.csv row 3 column license_number: license number 'CC-1' is given to more than one site"
        in problems
    )


def test_references_are_checked_once_the_rows_are_clean(tmp_path):
    sites = [SITE, {**SITE, "site_id": "S-3", "license_number": "CC-3", "provider_id": "P-9"}]
    problems = _problems(_drop(tmp_path, {"providers": [PROVIDER], "sites": sites}))
    assert problems == ["20261201T110000Z-test/sites.csv row 3 column provider_id: unknown provider 'P-9'"]


def test_dates_instants_and_schedules_are_checked_beyond_their_format(tmp_path):
    child = {"child_id": "7100001", "eligibility_start": ""}
    voucher = {
        "voucher_id": "V-1", "child_id": "7100001", "site_id": "S-1", "program": "CCDF", "schedule": "part_time",
        "scheduled_weekdays": "", "authorized_start": "2026-01-05", "authorized_end": "2026-01-04",
    }  # fmt: skip
    links = [{"license_number": "CC-1", "linked_from": "2026-01-01T00:00:00", "linked_until": ""}]
    files = {
        "providers": [PROVIDER],
        "sites": [SITE],
        "license_links": links,
        "children": [child],
        "vouchers": [voucher],
    }
    problems = _problems(_drop(tmp_path, files))
    label = "20261201T110000Z-test"
    assert (
        f"{label}/license_links.csv row 2 column linked_from: not an ISO 8601 instant with a UTC offset"
        " (linked_from='2026-01-01T00:00:00')"
    ) in problems
    assert f"{label}/vouchers.csv row 2 column scheduled_weekdays: required for a part_time voucher" in problems
    assert (
        f"{label}/vouchers.csv row 2 column authorized_end: authorized_end '2026-01-04' must be on or after"
        " authorized_start '2026-01-05'"
    ) in problems


def test_an_unknown_column_is_a_wrong_header(tmp_path):
    problems = _problems(_drop(tmp_path, {"providers": [{**PROVIDER, "phone": "555"}]}))
    assert problems == [
        "20261201T110000Z-test/providers.csv row 1: wrong header: unknown column(s) 'phone' (see docs/intake.md)"
    ]


def test_parquet_reads_like_csv(tmp_path):
    pytest.importorskip("pyarrow")
    csv_folder = _drop(tmp_path / "csv", {"providers": [PROVIDER], "sites": [SITE]})
    parquet_folder = _drop(tmp_path / "parquet", {"providers": [PROVIDER]})
    pd.DataFrame(
        {
            "site_id": ["S-1"], "provider_id": ["P-1"], "site_name": ["One"], "license_number": ["CC-1"],
            "operating_weekdays": [[1, 2, 3, 4, 5]],
        }
    ).to_parquet(parquet_folder / "sites.parquet")  # fmt: skip
    manifest = json.loads((parquet_folder / "manifest.json").read_text())
    (parquet_folder / "manifest.json").write_text(json.dumps({**manifest, "entities": ["providers", "sites"]}))
    from_csv = validate_drop(open_drop(storage_path(str(csv_folder))), NO_WAREHOUSE)["sites"]
    from_parquet = validate_drop(open_drop(storage_path(str(parquet_folder))), NO_WAREHOUSE)["sites"]
    assert from_parquet.frame.to_dict("records") == from_csv.frame.to_dict("records")
    assert from_parquet.first_row == 1
    assert from_csv.first_row == 2


def test_an_error_message_is_bounded():
    problems = [Problem("d/sites.csv", n, "site_id", "duplicate key") for n in range(2, 102)]
    message = str(IntakeError(problems))
    assert message.count("\n") == 26
    assert message.endswith("... and 75 more")
    assert BY_NAME["sites"].natural_key == ("site_id",)
