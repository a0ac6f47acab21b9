"""Airflow local settings of a ccms-attendance deployment: copy to ``$AIRFLOW_HOME/config/``.

Airflow imports this module in every one of its processes. In the processes that fork others
(``airflow scheduler`` with the LocalExecutor, ``airflow celery worker``, ``airflow dag-processor``)
it imports before the fork what every child would import again: Great Expectations and the task
modules where tasks run, the DAG files' and the plugins' modules everywhere
(``ccms_attendance.preload``; ``CCMS_GX_PRELOAD=0`` turns it off). Every Airflow process exits
without a last garbage collection of all it imported (``ccms_attendance.process_exit``: ~3 s of an
``airflow dags test``). It defines no policy: ``__all__`` is empty, so Airflow takes nothing else
from it.
"""

from ccms_attendance.preload import preload
from ccms_attendance.process_exit import skip_exit_collection

__all__: list[str] = []

skip_exit_collection()
preload()
