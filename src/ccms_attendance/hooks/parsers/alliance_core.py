"""Alliance CORE check-in/check-out events -> one canonical record per child per local day (pure).

* present = the child has a check-in on that state-calendar day; the record takes the first
  check-in and the last check-out of the day (``source_record_id`` = ``"<in-id>+<out-id>"``);
* a day with check-outs but no check-in -> RejectedRecord "check-out without a check-in on that day"
  (e.g. an overnight stay checked out after midnight);
* check-outs that all precede the first check-in -> the record keeps only its check-in and the
  check-outs are rejected ("check-out before check-in");
* Alliance CORE has no absence records: absence is inferred later by reconciliation, never here.

Events are the vendor's shape of one attendance day, so pairing them is parsing, not a decision
between records: two records for one child-day (e.g. under two vendor child keys) are both yielded
and settled by the rules (``ccms_attendance.rules.child_day``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from ccms_attendance.canonical import ExtractedItem, RejectedRecord, normalize_child_id
from ccms_attendance.hooks.parsers.clock import parse_instant_and_day
from ccms_attendance.hooks.parsers.fields import kind_of, text
from ccms_attendance.hooks.parsers.records import present, safe_id, unreadable
from ccms_attendance.hooks.site import SiteRequest


def event_id(event: Any) -> str | None:
    return text(event.get("event_id")) if isinstance(event, dict) else None


def _read_event(site: SiteRequest, event: Any) -> tuple | RejectedRecord:
    """An event's group (license, child key, child id, local day), kind, instant and id; or its rejection."""
    if not isinstance(event, dict):
        return site.reject("event is not an object")
    identifier = text(event.get("event_id"))
    license_number = text(event.get("facility_license_number"))
    child_id = normalize_child_id(event.get("state_child_id"))
    if identifier is None:
        return site.reject("missing event id", child_id=child_id)
    try:
        # Statewide this runs once per event (hundreds of thousands): instants and their local day
        # come from parse_instant_and_day, which parses each distinct timestamp string once.
        moment, day = parse_instant_and_day(event.get("occurred_at"))
    except ValueError:
        reason = "missing event timestamp" if event.get("occurred_at") is None else "unparseable event timestamp"
        return site.reject(reason, record_id=identifier, child_id=child_id)
    if license_number is None:
        return site.reject("missing license number", record_id=identifier, child_id=child_id, day=day)
    kind = event.get("event_type")
    if kind not in ("check_in", "check_out"):
        return site.reject(f"unknown event type ({kind_of(kind)})", record_id=identifier, child_id=child_id, day=day)
    child_key = text(event.get("child_key"))
    if child_key is None and child_id is None:
        return site.reject("missing child identifiers", record_id=identifier, day=day)
    return (license_number, child_key, child_id, day), kind, moment, identifier


def pair_events(site: SiteRequest, events: Iterable[Any]) -> Iterator[ExtractedItem]:
    """Turn check-in/check-out events into one canonical record per child per local day."""
    groups: dict[tuple, dict[str, list]] = defaultdict(lambda: {"check_in": [], "check_out": []})
    for event in events:
        try:
            read = _read_event(site, event)
        except Exception as error:  # this event's problem alone
            read = unreadable(site, error, safe_id(event, event_id))
        if isinstance(read, RejectedRecord):
            yield read
            continue
        group, kind, moment, identifier = read
        groups[group][kind].append((moment, identifier))

    for (license_number, _key, child_id, day), group in sorted(
        groups.items(), key=lambda item: (item[0][3], item[0][0], item[0][1] or "", item[0][2] or "")
    ):
        ins, outs = sorted(group["check_in"]), sorted(group["check_out"])
        if not ins:
            yield site.reject(
                "check-out without a check-in on that day",
                record_id="+".join(identifier for _, identifier in outs),
                child_id=child_id,
                day=day,
                license_number=license_number,
            )
            continue
        first_in = ins[0]
        last_out = outs[-1] if outs else None
        if last_out is not None and last_out[0] < first_in[0]:
            yield site.reject(
                "check-out before check-in",
                record_id="+".join(identifier for _, identifier in outs),
                child_id=child_id,
                day=day,
                license_number=license_number,
            )
            last_out = None
        record_id = first_in[1] + (f"+{last_out[1]}" if last_out else "")
        if child_id is None:
            yield site.reject("missing state child id", record_id=record_id, day=day, license_number=license_number)
            continue
        yield present(
            site,
            license_number=license_number,
            child_id=child_id,
            day=day,
            record_id=record_id,
            check_in=first_in[0],
            check_out=last_out[0] if last_out else None,
        )
