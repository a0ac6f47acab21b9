"""The pipeline steps the DAG wires together: each reads and writes the warehouse, calls the rules."""
