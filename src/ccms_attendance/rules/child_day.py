"""Several records for one child-day: the one policy, for every source and every vendor.

A source may send more than one record for a child on a day: an "absent" record and later a
"present" one (the provider corrected it), two sign-in sessions, a record under two vendor child
keys, another version of a record under the same id. No hook and no extract step picks one: they
pass every record on, and this policy settles them, the same way everywhere:

* **present wins**: the child-day is present if any of its records says present; otherwise absent;
* the **winning record** is the first present one (else the first absent one) in order of source
  record id; it gives the status, day code, source (and, in staging, the absence reason);
* the **lineage** keeps every record: ``source_record_id`` joins all distinct ids with ``+``
  (sorted); ``check_in`` is the earliest check-in, ``check_out`` the latest check-out of them all.

Exact repeats (same id, same content) never get here: the hooks drop them and the extract step
counts them (``staging.site_extract.duplicates_dropped``). Where it is applied: reconciliation
settles a site's governing records per child-day (``daily_attendance._collapse``, reported as
``duplicate_child_day``); the extract step settles versions of one record id that land on the same
child-day (``duplicate_conflicts``), because staging holds one row per record id and child-day.
"""

from __future__ import annotations

import pandas as pd

#: Columns that keep every record's contribution instead of the winner's.
LINEAGE = ("source_record_id", "check_in", "check_out")


def _joined_ids(ids: pd.Series) -> str:
    return "+".join(sorted(set(ids)))


def settle(records: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """One row per ``key`` value of ``records`` (columns: ``status``, ``source_record_id``,
    ``check_in``, ``check_out``, anything else), by the policy above; the columns are kept."""
    ordered = records.assign(_absent=records["status"] != "present").sort_values([*key, "_absent", "source_record_id"])
    lineage = [column for column in LINEAGE if column in records and column not in key]
    winner_columns = [column for column in records.columns if column not in key and column not in lineage]
    winners = ordered.drop_duplicates(key, keep="first")[[*key, *winner_columns]]
    aggregations = {
        "source_record_id": ("source_record_id", _joined_ids),
        "check_in": ("check_in", "min"),
        "check_out": ("check_out", "max"),
    }
    if not lineage:
        return winners[list(records.columns)]
    grouped = ordered.groupby(key, as_index=False, sort=False)
    joined = grouped.agg(**{column: aggregations[column] for column in lineage})
    return winners.merge(joined, on=key)[list(records.columns)]
