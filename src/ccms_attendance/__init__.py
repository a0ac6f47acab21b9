"""ccms-attendance: the state's CCMS/PPP attendance reconciliation, as plain Python.

DAG files only wire tasks; everything they call lives here.
"""

from ccms_attendance.arrow_memory import use_system_allocator

use_system_allocator()
