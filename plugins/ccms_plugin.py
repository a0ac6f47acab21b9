"""Registers the project's Airflow extensions (the service-period timetable)."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from service_period_timetable import ServicePeriodTimetable


class CcmsAttendancePlugin(AirflowPlugin):
    name = "ccms_attendance"
    timetables = [ServicePeriodTimetable]
