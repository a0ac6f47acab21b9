-- The source's staged records of the run are judged and recorded (V020: not judged again).
INSERT INTO staging.source_judged (run_id, source) VALUES (%(run_id)s, %(source)s)
ON CONFLICT (run_id, source) DO NOTHING;
