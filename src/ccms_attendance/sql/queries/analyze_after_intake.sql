-- Fresh statistics for ref and portal after a drop was applied (V019); after its transaction committed.
SELECT ref.analyze_after_intake();
