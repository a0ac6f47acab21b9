"""A vendor batch planned straight into the warehouse, for tests that run ``extract_ccms_batch``
on its own: one provider, one voucher child enrolled at every site, one plan row per site."""

from __future__ import annotations

import psycopg

from ccms_attendance.canonical import Source
from ccms_attendance.pipeline.run_context import RunContext

BATCH_NO = 1


def plan_batch(
    conn: psycopg.Connection, run: RunContext, source: Source, license_numbers: list[str], child_id: str, tag: str
) -> list[str]:
    """Sites ``S-<tag>-<n>`` (one per license, in order) planned for ``run`` in batch ``BATCH_NO``;
    their ids. Re-planning the same sites for another run reuses the reference rows."""
    conn.execute("INSERT INTO ref.provider VALUES (%s, 'Provider') ON CONFLICT DO NOTHING", (f"P-{tag}",))
    conn.execute("INSERT INTO ref.child VALUES (%s) ON CONFLICT DO NOTHING", (child_id,))
    site_ids = []
    for n, number in enumerate(license_numbers):
        site_id = f"S-{tag}-{n}"
        conn.execute(
            "INSERT INTO ref.site (site_id, provider_id, site_name, license_number) VALUES (%s, %s, 'x', %s)"
            " ON CONFLICT DO NOTHING",
            (site_id, f"P-{tag}", number),
        )
        conn.execute(
            "INSERT INTO ref.voucher (voucher_id, child_id, site_id, program, authorized_start)"
            " VALUES (%s, %s, %s, 'CCDF', '2025-01-01') ON CONFLICT DO NOTHING",
            (f"V-{tag}-{n}", child_id, site_id),
        )
        conn.execute(
            "INSERT INTO staging.site_plan VALUES (%s, %s, %s, %s, %s, %s, NULL, %s)",
            (run.run_id, run.period.start, site_id, number, str(source), str(source), BATCH_NO),
        )
        site_ids.append(site_id)
    return site_ids
