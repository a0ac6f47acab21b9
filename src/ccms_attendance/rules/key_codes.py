"""Integer codes for the reconciliation frames' keys (site_id, child_id, attendance_date).

Merging, sorting and grouping the ~600k child-days of a statewide period on Python strings was
most of the rules' run time; on int64 codes the same operations are several times faster. Codes
follow the values' own sort order (missing values last, under one code), so sorting and matching
on them gives the same rows in the same order as on the strings: the rules in
:mod:`ccms_attendance.rules.daily_attendance` read as before and produce identical frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


class Codes:
    """Integer codes for one key's values (site_id, child_id, a day, a voucher_id), shared across frames.

    Codes follow the values' sort order, missing values last and all under one code: that is how
    ``sort_values`` orders and ``merge`` matches the values themselves, so the same rows come out in
    the same order.
    """

    def __init__(self, *columns: pd.Series) -> None:
        # Empty columns add no values (and might carry a looser dtype, e.g. object for no dates).
        present = [column.reset_index(drop=True) for column in columns if len(column)]
        values = pd.concat(present, ignore_index=True) if present else pd.Series([], dtype=object)
        self.values = pd.Index(values.dropna().unique()).sort_values()
        self.size = len(self.values) + 1  # the last code is for missing values

    def __call__(self, column: pd.Series) -> np.ndarray:
        codes = self.values.get_indexer(column).astype(np.int64)
        unknown = codes < 0
        if unknown.any():
            if not column[unknown].isna().all():
                raise ValueError(f"{column.name} has values that were not coded")
            codes[unknown] = self.size - 1
        return codes


#: Column in which the big frames (records, enrolled and daily child-days) carry their site-child
#: code from the start, so that it is looked up once rather than at every merge.
CHILD_CODE = "_child_code"


@dataclass(frozen=True)
class KeyCodes:
    """Codes for site_id, child_id and attendance_date, combined into one int64 per site-day,
    site-child or child-day (site major, then child, then day: the frames' sort order)."""

    sites: Codes
    children: Codes
    days: Codes

    @classmethod
    def of(cls, sites: list[pd.DataFrame], children: list[pd.DataFrame], days: list[pd.DataFrame]) -> KeyCodes:
        """Codes for every site_id, child_id and attendance_date in these frames (and frames made of them)."""
        keys = cls(
            Codes(*(frame["site_id"] for frame in sites)),
            Codes(*(frame["child_id"] for frame in children)),
            Codes(*(frame["attendance_date"] for frame in days)),
        )
        assert keys.sites.size * keys.children.size * keys.days.size < 2**62, "child-day codes would overflow"
        return keys

    def site(self, frame: pd.DataFrame) -> np.ndarray:
        if CHILD_CODE in frame:
            return frame[CHILD_CODE].to_numpy() // self.children.size
        return self.sites(frame["site_id"])

    def site_day(self, frame: pd.DataFrame) -> np.ndarray:
        return self.site(frame) * self.days.size + self.days(frame["attendance_date"])

    def child(self, frame: pd.DataFrame) -> np.ndarray:
        if CHILD_CODE in frame:
            return frame[CHILD_CODE].to_numpy()
        return self.sites(frame["site_id"]) * self.children.size + self.children(frame["child_id"])

    def with_child_code(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with its site-child codes in a ``CHILD_CODE`` column (dropped from the results)."""
        return frame.assign(**{CHILD_CODE: self.child(frame)})

    def any_missing(self, child_codes: np.ndarray) -> bool:
        """Whether any of these site-child codes stands for a missing site_id or child_id."""
        site, child = np.divmod(child_codes, self.children.size)
        return bool(((site == self.sites.size - 1) | (child == self.children.size - 1)).any())

    def child_day(self, frame: pd.DataFrame) -> np.ndarray:
        return self.child(frame) * self.days.size + self.days(frame["attendance_date"])


def merge_on_codes(
    left: pd.DataFrame, right: pd.DataFrame, on: list[str], how: str, keys: KeyCodes, **kwargs: object
) -> pd.DataFrame:
    """``left.merge(right, on=on, how=how)``, matching site_id (and child_id) by their int64 codes.

    Same rows, order, columns and dtypes as the merge on the strings: the left frame's key columns
    are kept, and attendance_date stays a merge key (so pandas' rules for dates of different
    resolutions still apply). Where a string key's dtype differs between the frames, pandas casts
    both to object; codes would not, so that merge is left to pandas.
    """
    strings = [column for column in ("site_id", "child_id") if column in on]
    right_code = right[CHILD_CODE].to_numpy() if CHILD_CODE in right else None
    right = right.drop(columns=[CHILD_CODE], errors="ignore")  # the left frame's rows keep theirs
    if any(left[column].dtype != right[column].dtype for column in strings):
        return left.merge(right, on=on, how=how, **kwargs)
    code = keys.child if "child_id" in strings else keys.site
    others = [column for column in on if column not in strings]
    if right_code is not None:
        right_code = right_code if "child_id" in strings else right_code // keys.children.size
    right = right.drop(columns=strings).assign(_key=code(right) if right_code is None else right_code)
    return left.assign(_key=code(left)).merge(right, on=["_key", *others], how=how, **kwargs).drop(columns="_key")


def with_match(left: pd.DataFrame, right: pd.DataFrame, on: list[str], flag: str, keys: KeyCodes) -> pd.DataFrame:
    """``left.merge(right[on], on=on, how="left", indicator=flag)``, the indicator as a bool: True where
    left's key is in right.

    When right's keys are unique and of the same dtypes as left's, that merge only adds the flag,
    so it is a look-up of codes; otherwise (it may repeat rows or cast keys) it is the merge.
    """
    carried = [CHILD_CODE] if CHILD_CODE in right else []
    if all(left[column].dtype == right[column].dtype for column in on):
        code = keys.child_day if "child_id" in on else keys.site_day
        right_codes = pd.Index(code(right))
        if right_codes.is_unique:
            return left.assign(**{flag: right_codes.get_indexer(code(left)) >= 0}).reset_index(drop=True)
    merged = merge_on_codes(left, right[[*on, *carried]].assign(**{flag: True}), on, "left", keys)
    return merged.assign(**{flag: merged[flag].notna()})


def first_of_runs(keys: np.ndarray) -> np.ndarray:
    """Which rows of key-sorted rows are the first of their key (``drop_duplicates(keep="first")``)."""
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return first
