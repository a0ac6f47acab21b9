"""``make bench``: a statewide service period through the real DAG, measured against a bare floor."""
