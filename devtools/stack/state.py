"""The demo state over several consecutive periods, so a local stack has a past to backfill.

``make demo``'s generator (``devtools/demo/state.py``) writes one period. Here it runs once per
period with the same seed and the same sites, and the results are merged: the reference tables and
the portal's selections and submissions come from the latest period's state (its history reaches
26 weeks back, before every period here), the manual entries, closures and vendor days of each
period from that period's state. Every site is set up to load cleanly in every period (one CCMS
site per vendor, chosen long before the first period; PPP sites, one with a chronically absent
child whose absences cross the limits period after period), so each run of the stack succeeds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from ccms_attendance.canonical import Source
from ccms_attendance.periods import PeriodCalendar, ServicePeriod
from devtools.demo.state import GeneratedState, SiteSpec, generate_state

#: Tables whose rows belong to one period (each period's generation contributes its own).
PER_PERIOD_TABLES = ("ref.site_closure", "portal.manual_entry")


def stack_sites(periods: int, period: ServicePeriod) -> list[SiteSpec]:
    before = periods + 2  # every selection in force before the first period
    return [
        SiteSpec(
            "S-100",
            "P-10",
            "Sunrise Early Learning - Main St",
            closures=((period.start + dt.timedelta(days=3), "PC"),),
            selected_periods_before=before,
        ),
        SiteSpec("S-101", "P-10", "Sunrise Early Learning - Oak Ave", Source.BRIGHTWHEEL, before),
        SiteSpec("S-102", "P-10", "Sunrise Early Learning - Elm Ct", Source.ALLIANCE_CORE, before),
        SiteSpec(
            "S-200", "P-20", "Little Oaks Child Care", chronically_absent_children=1, selected_periods_before=before
        ),
        SiteSpec("S-300", "P-30", "Kidz Kampus", Source.PLAYGROUND, before),
    ]


def generate_periods(calendar: PeriodCalendar, periods: Sequence[ServicePeriod]) -> GeneratedState:
    """One consistent state covering ``periods`` (consecutive, oldest first)."""
    latest = periods[-1]
    states = [generate_state(calendar, p, stack_sites(len(periods), p)) for p in periods]
    tables = dict(states[-1].tables)
    for table in PER_PERIOD_TABLES:
        tables[table] = pd.concat([s.tables[table] for s in states], ignore_index=True)
    vendor_sites: dict[tuple[str, str], dict] = {}
    for state in states:
        for site in state.scenario["sites"]:
            key = (site["vendor"], site["license_number"])
            merged = vendor_sites.setdefault(key, {**site, "days": []})
            merged["days"] = merged["days"] + site["days"]
    return GeneratedState(period=latest, tables=tables, scenario={"sites": list(vendor_sites.values())})
