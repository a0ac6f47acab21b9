-- Whether a drop with this digest was applied already (and when).
SELECT drop_name, applied_at FROM ref.intake_drop WHERE drop_hash = %(drop_hash)s;
