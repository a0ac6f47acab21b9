"""ccms-attendance: the state's CCMS/PPP attendance reconciliation, as plain Python.

DAG files only wire tasks; everything they call lives here.
"""
