"""``make demo``: a small realistic state through one real DAG run."""
