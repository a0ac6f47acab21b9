"""Registers the project's Airflow extensions; the code lives in the ``ccms_attendance`` package.

- the service-period timetable (DAG files import it by the same path, ``ccms_attendance.timetables``);
- the UI: period reports and GX data docs at ``/ccms/``, a Browse menu entry and a run tab.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from ccms_attendance.timetables import ServicePeriodTimetable
from ccms_attendance.ui.app import EXTERNAL_VIEWS, create_app
from ccms_attendance.ui.links import URL_PREFIX


class CcmsAttendancePlugin(AirflowPlugin):
    name = "ccms_attendance"
    timetables = [ServicePeriodTimetable]
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "CCMS period reports"}]
    external_views = EXTERNAL_VIEWS
