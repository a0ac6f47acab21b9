"""A seeded statewide service period: thousands of sites on PPP and the three CCMS, tens of thousands of children.

The benchmark needs the whole state at once, shaped like the real one: most sites keep their
attendance in a CCMS, about 15 % of the voucher children are On My Way Pre-K, CCMS vendors also
send children the state does not pay for (private pay with a state Child ID, siblings, staff
children: ~30 % extra records that the extract step must drop), and a few hundred situations raise
exceptions (unlinked licenses, a CCMS chosen before the first portal submission, unsubmitted PPP
periods, portal edits under a CCMS, private-pay children without a Child ID, closures).

It reuses the demo's generator (:func:`devtools.demo.state.generate_state`) for the portal
state and the vendor scenario, with one :class:`SiteSpec` per site, and only adds what the demo has
no need for: the non-voucher noise and the thinning of per-site exception sources. Same arguments,
same rows and same scenario, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from ccms_attendance.canonical import STATE_TIMEZONE, Source
from ccms_attendance.periods import PeriodCalendar, ServicePeriod
from devtools.demo.state import GeneratedState, SiteSpec, generate_state

#: Share of sites per governing source (the rest is PPP).
SOURCE_SHARES = {Source.ALLIANCE_CORE: 0.25, Source.BRIGHTWHEEL: 0.25, Source.PLAYGROUND: 0.25}
NOISE_SHARE = 0.30  # extra CCMS records for children without a voucher, relative to voucher-child records
NOISE_CHILD_BASE = 9_000_000  # state Child IDs the roster does not know


@dataclass(frozen=True)
class StatewideSpec:
    """The knobs of one statewide period; the defaults are the issue's statewide period."""

    sites: int = 3000
    children: int = 60000
    seed: int = 20261108
    special_site_share: float = 0.02  # sites set up to raise exceptions (unlinked, early CCMS, unsubmitted)
    portal_edit_share: float = 0.05  # CCMS sites where someone typed an entry in the read-only portal
    private_pay_share: float = 0.05  # CCMS sites whose vendor also holds children without a Child ID
    voucher_end_share: float = 0.03  # sites where one child's voucher ends mid-period (the rest: all period)
    noise_share: float = NOISE_SHARE


def _children_per_site(rng: random.Random, sites: int, children: int) -> list[int]:
    """Site sizes between ~25 % and ~175 % of the mean that add up to exactly ``children``."""
    weights = [rng.uniform(0.25, 1.75) for _ in range(sites)]
    total = sum(weights)
    sizes = [max(1, int(children * w / total)) for w in weights]
    short = children - sum(sizes)
    for index in range(abs(short)):
        position = index % sites
        if short > 0:
            sizes[position] += 1
        elif sizes[position] > 1:
            sizes[position] -= 1
    return sizes


def site_specs(spec: StatewideSpec, period: ServicePeriod) -> list[SiteSpec]:
    rng = random.Random(spec.seed)
    sizes = _children_per_site(rng, spec.sites, spec.children)
    specs = []
    for index, size in enumerate(sizes):
        site_id = f"S-{index + 1:05d}"
        provider_id = f"P-{index // 3 + 1:05d}"  # multi-site providers, three sites each
        draw = rng.random()
        source, cumulative = Source.PPP, 0.0
        for candidate, share in SOURCE_SHARES.items():
            cumulative += share
            if draw < cumulative:
                source = candidate
                break
        special = rng.random() < spec.special_site_share
        kind = rng.choice(("unlinked", "early_ccms", "unsubmitted", "closure")) if special else None
        closures = ((period.start + dt.timedelta(days=3), "PC"),) if kind == "closure" else ()
        specs.append(
            SiteSpec(
                site_id=site_id,
                provider_id=provider_id,
                name=f"Site {index + 1}",
                source=source,
                submitted_first_period=kind != "early_ccms",
                submitted_demo_period=not (kind == "unsubmitted" or kind == "early_ccms"),
                license_linked=kind != "unlinked",
                children=size,
                private_pay_children=2 if source.is_ccms and rng.random() < spec.private_pay_share else 0,
                closures=closures,
            )
        )
    return specs


def generate_statewide(calendar: PeriodCalendar, period: ServicePeriod, spec: StatewideSpec) -> GeneratedState:
    """The statewide portal state and vendor scenario for ``period`` (deterministic for ``spec``)."""
    state = generate_state(calendar, period, sites=site_specs(spec, period), seed=spec.seed)
    rng = random.Random(spec.seed + 1)
    _thin_portal_edits(state, rng, spec.portal_edit_share)
    _thin_voucher_ends(state, rng, spec.voucher_end_share)
    _add_non_voucher_noise(state, rng, spec.noise_share)
    return state


def _thin_portal_edits(state: GeneratedState, rng: random.Random, share: float) -> None:
    """Keep the demo's 'entry typed under a CCMS' on only ``share`` of the CCMS sites."""
    entries = state.tables["portal.manual_entry"]
    ccms_sites = {
        row.site_id
        for row in state.tables["portal.data_entry_selection"].itertuples(index=False)
        if row.method != str(Source.PPP)
    }
    keep_edits = {site for site in sorted(ccms_sites) if rng.random() < share}
    under_ccms = entries["site_id"].isin(ccms_sites)
    keep = ~under_ccms | entries["site_id"].isin(keep_edits)
    state.tables["portal.manual_entry"] = entries[keep].reset_index(drop=True)


def _thin_voucher_ends(state: GeneratedState, rng: random.Random, share: float) -> None:
    """Keep the demo's 'a voucher ends mid-period' (one per site) on only ``share`` of the sites.

    Every day after the end that a CCMS still reports is a ``record_outside_enrollment`` exception;
    on every site that would be thousands of them, not the few hundred of a real period.
    """
    vouchers = state.tables["ref.voucher"]
    ending = vouchers["authorized_end"].notna()
    keep = ending & vouchers["site_id"].map(lambda _site: rng.random() < share)
    vouchers.loc[ending & ~keep, "authorized_end"] = None


def _add_non_voucher_noise(state: GeneratedState, rng: random.Random, share: float) -> None:
    """Give every CCMS site ~``share`` extra children with a state Child ID but no voucher."""
    next_id = NOISE_CHILD_BASE
    for site in state.scenario["sites"]:
        voucher_keys = [c["vendor_child_key"] for c in site["children"] if c["state_child_id"]]
        dates = sorted({day["date"] for day in site["days"]})
        extra = round(len(voucher_keys) * share)
        for n in range(extra):
            next_id += 1
            key = f"k-nv-{next_id}"
            site["children"].append(
                {
                    "vendor_child_key": key,
                    "state_child_id": str(next_id),
                    "first_name": "Private",
                    "last_name": f"Pay{n}",
                    "birth_date": "2022-05-17",
                }
            )
            for date in dates:
                day = dt.date.fromisoformat(date)
                if rng.random() < 0.9:
                    check_in = dt.datetime.combine(day, dt.time(7 + rng.randint(0, 1), rng.randint(0, 59)))
                    check_out = dt.datetime.combine(day, dt.time(15 + rng.randint(0, 2), rng.randint(0, 59)))
                    site["days"].append(
                        {
                            "vendor_child_key": key,
                            "date": date,
                            "status": "present",
                            "check_in": check_in.replace(tzinfo=STATE_TIMEZONE).isoformat(),
                            "check_out": check_out.replace(tzinfo=STATE_TIMEZONE).isoformat(),
                        }
                    )
                else:
                    site["days"].append({"vendor_child_key": key, "date": date, "status": "absent", "reason": "VAC"})


def describe(state: GeneratedState) -> dict[str, int | float]:
    """Proportions a reader (and the generator's tests) can check at a glance."""
    vouchers = state.tables["ref.voucher"]
    voucher_children = set(vouchers["child_id"])
    ccms_days = [day for site in state.scenario["sites"] for day in site["days"]]
    keys_with_voucher = {
        child["vendor_child_key"]
        for site in state.scenario["sites"]
        for child in site["children"]
        if child["state_child_id"] in voucher_children
    }
    voucher_days = sum(1 for day in ccms_days if day["vendor_child_key"] in keys_with_voucher)
    return {
        "sites": len(state.tables["ref.site"]),
        "ccms_sites": len(state.scenario["sites"]),
        "children": len(voucher_children),
        "omw_share": round(float((vouchers["program"] == "OMW").mean()), 4) if len(vouchers) else 0.0,
        "manual_entries": len(state.tables["portal.manual_entry"]),
        "ccms_vendor_records": len(ccms_days),
        "ccms_voucher_records": voucher_days,
        "non_voucher_share": round((len(ccms_days) - voucher_days) / voucher_days, 4) if voucher_days else 0.0,
    }
