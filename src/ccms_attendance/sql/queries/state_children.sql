-- Every child the state's register knows (any voucher, any time), as known at the run's as_known_at:
-- a portal entry naming none of them is a mistyped Child ID, reported by id.
SELECT child_id FROM ref.child_known(%(as_known_at)s)
UNION
SELECT child_id FROM ref.voucher_known(%(as_known_at)s);
