"""Airflow local settings of a ccms-attendance deployment: copy to ``$AIRFLOW_HOME/config/``.

Airflow imports this module in every one of its processes; in ``airflow scheduler`` (LocalExecutor)
and ``airflow celery worker`` it preloads Great Expectations, so the task processes forked from
them do not import it again (``ccms_attendance.validation.preload``; ``CCMS_GX_PRELOAD=0`` turns
it off). Every Airflow process exits without a last garbage collection of all it imported
(``ccms_attendance.process_exit``: ~3 s of an ``airflow dags test``). It defines no policy:
``__all__`` is empty, so Airflow takes nothing else from it.
"""

from ccms_attendance.process_exit import skip_exit_collection
from ccms_attendance.validation.preload import preload_validation

__all__: list[str] = []

skip_exit_collection()
preload_validation()
