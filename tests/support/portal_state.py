"""Build a small reference/portal state by hand, row by row, for tests that assert exact results."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import psycopg

from ccms_attendance.canonical import STATE_TIMEZONE
from ccms_attendance.periods import ServicePeriod
from ccms_attendance.warehouse.reference_history import ApplyResult, Entity, apply_entity_rows
from ccms_attendance.warehouse.target import SYNC_ROLE
from devtools.demo.state import REFERENCE_TABLES, GeneratedState, write_state
from support.roles import acting_as


def at(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    """An instant on a state calendar day."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=STATE_TIMEZONE)


class PortalState:
    def __init__(self, period: ServicePeriod) -> None:
        self.period = period
        self.rows: dict[str, list[dict]] = {table: [] for table, _ in REFERENCE_TABLES}
        self._providers: set[str] = set()

    def site(
        self,
        site_id: str,
        license_number: str,
        provider_id: str = "P-1",
        weekdays: tuple[int, ...] = (1, 2, 3, 4, 5),
        linked: bool = True,
    ) -> PortalState:
        if provider_id not in self._providers:
            self._providers.add(provider_id)
            self.rows["ref.provider"].append({"provider_id": provider_id, "provider_name": f"Provider {provider_id}"})
        self.rows["ref.site"].append(
            {
                "site_id": site_id,
                "provider_id": provider_id,
                "site_name": f"Site {site_id}",
                "license_number": license_number,
                "operating_weekdays": list(weekdays),
            }
        )
        if linked:
            self.rows["ref.license_link"].append(
                {"license_number": license_number, "linked_from": at(dt.date(2025, 1, 1)), "linked_until": None}
            )
        return self

    def voucher(
        self,
        child_id: str,
        site_id: str,
        program: str = "CCDF",
        start: dt.date = dt.date(2025, 1, 1),
        end: dt.date | None = None,
        voucher_id: str | None = None,
        scheduled_weekdays: tuple[int, ...] | None = None,
        eligibility_start: dt.date | None = None,
    ) -> PortalState:
        """A voucher; ``scheduled_weekdays`` makes it part-time (ISO weekdays the child is expected)."""
        if child_id not in {r["child_id"] for r in self.rows["ref.child"]}:
            self.rows["ref.child"].append({"child_id": child_id, "eligibility_start": eligibility_start})
        self.rows["ref.voucher"].append(
            {
                "voucher_id": voucher_id or f"V-{child_id}-{site_id}",
                "child_id": child_id,
                "site_id": site_id,
                "program": program,
                "schedule": "full_time" if scheduled_weekdays is None else "part_time",
                "scheduled_weekdays": list(scheduled_weekdays) if scheduled_weekdays is not None else None,
                "authorized_start": start,
                "authorized_end": end,
            }
        )
        return self

    def closure(self, site_id: str, day: dt.date, kind: str = "PC") -> PortalState:
        self.rows["ref.site_closure"].append(
            {"site_id": site_id, "closure_date": day, "closure_kind": kind, "reason": "closed"}
        )
        return self

    def submission(self, site_id: str, period_start: dt.date, submitted_at: dt.datetime | None = None) -> PortalState:
        self.rows["portal.period_submission"].append(
            {
                "site_id": site_id,
                "period_start": period_start,
                "submitted_at": submitted_at or at(period_start + dt.timedelta(days=16)),
                "submitted_by": "director",
            }
        )
        return self

    def selection(self, site_id: str, method: str, effective_start: dt.date, chosen_at: dt.datetime) -> PortalState:
        self.rows["portal.data_entry_selection"].append(
            {
                "site_id": site_id,
                "method": method,
                "effective_start": effective_start,
                "chosen_at": chosen_at,
                "chosen_by": "director",
            }
        )
        return self

    def absence(
        self, site_id: str, child_id: str, day: dt.date, code: str = "AB", entered_at: dt.datetime | None = None
    ) -> PortalState:
        self.rows["portal.manual_entry"].append(
            {
                "site_id": site_id,
                "child_id": child_id,
                "attendance_date": day,
                "day_code": code,
                # Typed the evening of the day, as a provider keeping the portal up to date does (the
                # portal is read-only from a CCMS connection on: a later default would hide entries).
                "entered_at": entered_at or at(day, 18),
                "entered_by": "director",
            }
        )
        return self

    def rows_of(self, table: str, **match: object) -> list[dict]:
        """This state's rows of ``table`` (e.g. ``"ref.voucher"``) whose columns equal ``match``."""
        return [dict(r) for r in self.rows[table] if all(r.get(k) == v for k, v in match.items())]

    def generated(self) -> GeneratedState:
        """This state as the demo's generator shapes it (what ``devtools.demo.drop.write_drop`` exports)."""
        tables = {table: pd.DataFrame(self.rows[table], columns=columns) for table, columns in REFERENCE_TABLES}
        return GeneratedState(period=self.period, tables=tables)

    def write(self, conn: psycopg.Connection) -> None:
        """Replace ref/portal with this state (every row recorded now: the first version of each fact)."""
        write_state(conn, self.generated())


def record_change(
    conn: psycopg.Connection,
    entity: str | Entity,
    rows: list[dict],
    *,
    withdraw: tuple[dict, ...] = (),
    recorded_at: dt.datetime | None = None,
) -> ApplyResult:
    """A later change to the reference/portal data, written as the reference sync writes it: with the
    sync role's privileges, bitemporally (the superseded versions stay,
    :mod:`ccms_attendance.warehouse.reference_history`)."""
    with acting_as(conn, SYNC_ROLE), conn.transaction():
        return apply_entity_rows(conn, entity, rows, withdraw=withdraw, recorded_at=recorded_at)
