-- Record an applied drop (inside the transaction that applied it).
INSERT INTO ref.intake_drop (drop_hash, drop_name, mode, exported_at, source, entities, applied_at)
VALUES (%(drop_hash)s, %(drop_name)s, %(mode)s, %(exported_at)s, %(source)s, %(entities)s, %(applied_at)s);
