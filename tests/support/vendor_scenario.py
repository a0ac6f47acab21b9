"""Build a vendor-sandbox scenario (docs/vendors.md) by hand, in step with a PortalState."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from support.portal_state import at


class VendorScenario:
    def __init__(self) -> None:
        self.sites: dict[str, dict] = {}

    def site(self, vendor: str, license_number: str) -> VendorScenario:
        self.sites[license_number] = {"vendor": vendor, "license_number": license_number, "children": [], "days": []}
        return self

    def child(self, license_number: str, child_id: str | None, key: str | None = None) -> VendorScenario:
        self.sites[license_number]["children"].append(
            {
                "vendor_child_key": key or f"k-{child_id}",
                "state_child_id": child_id,
                "first_name": "Testy",
                "last_name": "McTestface",
                "birth_date": "2021-06-01",
            }
        )
        return self

    def present(self, license_number: str, child_id: str, day: dt.date, key: str | None = None) -> VendorScenario:
        self.sites[license_number]["days"].append(
            {
                "vendor_child_key": key or f"k-{child_id}",
                "date": day.isoformat(),
                "status": "present",
                "check_in": at(day, 7, 30).isoformat(),
                "check_out": at(day, 16, 45).isoformat(),
            }
        )
        return self

    def absent(self, license_number: str, child_id: str, day: dt.date, reason: str = "ILL") -> VendorScenario:
        self.sites[license_number]["days"].append(
            {"vendor_child_key": f"k-{child_id}", "date": day.isoformat(), "status": "absent", "reason": reason}
        )
        return self

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps({"sites": list(self.sites.values())}))
        return path
