"""Development tooling: the demo, the statewide benchmark, the vendor sandboxes, a local Airflow runner.

Not part of the product (``src/ccms_attendance``): nothing here ships in a deployment.
"""
