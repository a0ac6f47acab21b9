-- Fresh statistics for the staging tables a step just wrote (V019); after its transaction committed.
SELECT staging.analyze_tables(%(tables)s::text[]);
