"""Daily attendance reconciliation: row order and key dtypes (the rules work on integer codes of
the keys; builders: ``support.daily_frames``).
"""

from __future__ import annotations

import pandas as pd
from support.daily_frames import (
    BW,
    MON_FRI,
    PERIOD,
    PPP,
    WEEKDAYS,
    closures_frame,
    day,
    extracts_frame,
    iso,
    plan_frame,
    record,
    records_frame,
    rows,
    run,
    sites_frame,
    voucher,
    vouchers_frame,
)

from ccms_attendance.rules.daily_attendance import (
    enrolled_days,
    operating_days,
)

# --- order and dtypes (the rules work on integer codes of the keys) ----------------------------


def test_enrolled_days_keep_the_lowest_voucher_id_with_its_own_schedule():
    open_days = operating_days(PERIOD, sites_frame(S1=MON_FRI), closures_frame())
    vouchers = vouchers_frame(
        voucher(31, "C1", "S1", weekdays=(1, 2, 3, 4, 5), end=day(9)),
        voucher(30, "C1", "S1", weekdays=(2,), start=day(8)),  # lower id: wins from 01-08 on
    )
    result = enrolled_days(open_days, vouchers)
    assert rows(result, ["attendance_date", "voucher_id", "scheduled"]) == [
        (iso(5), 31, True), (iso(6), 31, True), (iso(7), 31, True), (iso(8), 30, False), (iso(9), 30, False),
        (iso(12), 30, False), (iso(13), 30, True), (iso(14), 30, False), (iso(15), 30, False), (iso(16), 30, False),
    ]  # fmt: skip


def test_rows_follow_the_string_order_of_site_and_child_ids():
    # "S10" sorts before "S2" and "C10" before "C9" as strings: the order the rows must keep.
    result = run(
        plan_frame(("S2", PPP), ("S10", PPP)),
        vouchers=vouchers_frame(voucher(1, "C9", "S2"), voucher(2, "C10", "S2"), voucher(3, "C9", "S10")),
    )
    pairs = list(dict.fromkeys(rows(result.daily, ["site_id", "child_id"])))
    assert pairs == [("S10", "C9"), ("S2", "C10"), ("S2", "C9")]
    assert rows(result.summary, ["site_id", "child_id"]) == pairs
    assert rows(result.site_period, ["site_id"]) == [("S10",), ("S2",)]
    dates = rows(result.daily[result.daily["child_id"] == "C10"], ["attendance_date"])
    assert dates == [(iso(n),) for n in WEEKDAYS]


def test_object_and_str_key_columns_give_the_same_rows():
    def inputs(dtype: str) -> dict:
        frames = {
            "plan": plan_frame(("S1", BW), ("S2", PPP)),
            "closures": closures_frame(("S1", 12), ("S2", 13, "NP")),
            "vouchers": vouchers_frame(voucher(1, "C1", "S1"), voucher(2, "C2", "S2", weekdays=(1, 3))),
            "records": records_frame(
                record(BW, "S1", "C1", 6, "present", "bw-1"),
                record(PPP, "S2", "C2", 7, "absent", "p-1"),
                record(PPP, "S1", "C1", 8, "absent", "p-2"),
            ),
            "extracts": extracts_frame((BW, "S1", "retrieved")),
        }
        for frame in frames.values():
            for column in ("site_id", "child_id"):
                if column in frame:
                    frame[column] = frame[column].astype(dtype)
        return frames

    as_str, as_object = run(**inputs("str")), run(**inputs("object"))
    for name in ("daily", "summary", "site_period", "exceptions"):
        frame = getattr(as_str, name)
        assert rows(frame, frame.columns) == rows(getattr(as_object, name), frame.columns)


def test_weekday_masks_read_each_voucher_schedule_once():
    from ccms_attendance.rules.day_codes import is_scheduled, weekday_masks

    vouchers = vouchers_frame(
        voucher(1, "C1", "S1"), voucher(2, "C2", "S1", weekdays=(1, 3)), voucher(3, "C3", "S1", weekdays=())
    )
    assert list(weekday_masks(vouchers)) == [0b11111110, 0b1010, 0]
    # A one-pass iterable cannot be read in advance: it is read on each day, as before.
    vouchers.at[1, "scheduled_weekdays"] = iter([1, 3])
    assert list(weekday_masks(vouchers)) == [0b11111110, -1, 0]
    days = pd.DataFrame({"attendance_date": [day(5)], "schedule": ["part_time"], "scheduled_weekdays": [[1]]})
    assert is_scheduled(days).tolist() == [True]
