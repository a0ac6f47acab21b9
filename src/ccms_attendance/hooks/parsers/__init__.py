"""Per-vendor parsers: pure functions from a vendor payload's records to canonical items.

Each takes the :class:`~ccms_attendance.hooks.site.SiteRequest` (vendor, site, period, ``now``)
and the raw records as the vendor sent them (decoded JSON, any shape) and yields
:class:`~ccms_attendance.canonical.AttendanceRecord` or
:class:`~ccms_attendance.canonical.RejectedRecord` (with a fixed-text reason) — nothing else, no
I/O, no state between calls. A record the parser cannot handle is rejected alone; nothing a
record holds can fail its site or its batch.

* ``alliance_core.pair_events`` — check-in/check-out events, paired per child and local day;
* ``brightwheel.daily_records`` / ``daily_record_items`` — daily records with wall-clock times;
* ``playground.export_rows_items`` — export rows (sign-in/out sessions and absences).

Shared reading rules: ``fields`` (identifiers, identity), ``clock`` (dates, instants, wall-clock
times and the DST policy), ``records`` (the checks every canonical record gets).
"""
