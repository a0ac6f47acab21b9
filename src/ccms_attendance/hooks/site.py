"""One ``iter_site_period`` call: what every error message and every record check refers to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ccms_attendance.canonical import STATE_TIMEZONE, RejectedRecord, Source
from ccms_attendance.hooks.errors import CcmsExtractionError, FailureKind
from ccms_attendance.periods import ServicePeriod


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class SiteRequest:
    """The site-period asked for, and ``now``: the moment the hook reads the vendor's data.

    Nothing a vendor says can have happened after ``now``; records dated later are rejected
    (``parsers.records``). ``now`` is the hook's clock, not the run's ``as_of``: a provisional
    run planned mid-period still reads what the vendor holds when it asks.
    """

    source: Source
    license_number: str
    period: ServicePeriod
    now: dt.datetime = field(default_factory=_now, compare=False)
    #: The state calendar day of ``now`` (computed once: every record is checked against it).
    today: dt.date = field(init=False, compare=False, repr=False)
    #: The last day a record may be dated: the period's end, or ``today`` if that is earlier.
    last_day: dt.date = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        today = self.now.astimezone(STATE_TIMEZONE).date()
        object.__setattr__(self, "today", today)
        object.__setattr__(self, "last_day", min(self.period.end, today))

    def fail(self, detail: str, *, retryable: bool = False, kind: FailureKind | None = None) -> CcmsExtractionError:
        """The site's error; ``detail`` must already be safe to store (see ``hooks.redact``)."""
        return CcmsExtractionError(
            f"{self.source} site {self.license_number} period {self.period}: {detail}",
            source=self.source,
            license_number=self.license_number,
            period=self.period,
            retryable=retryable,
            kind=kind,
        )

    def reject(
        self,
        reason: str,
        *,
        record_id: str | None = None,
        child_id: str | None = None,
        day: dt.date | None = None,
        license_number: str | None = None,
    ) -> RejectedRecord:
        """A record that cannot be used. ``reason`` is fixed text: never a value the vendor sent."""
        return RejectedRecord(
            source=self.source,
            license_number=license_number or self.license_number,
            source_record_id=record_id,
            child_id=child_id,
            attendance_date=day,
            reason=reason,
        )
