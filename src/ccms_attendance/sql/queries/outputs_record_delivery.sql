-- One letter delivered (or withheld) on one channel; a letter already recorded stays as it was.
INSERT INTO reconciled.notice_delivery (notice_id, child_id, enrollment_year_start, limit_kind, threshold,
                                        letter, channel, provider_id, outcome, location, period_start, run_id,
                                        delivered_at)
VALUES (%(notice_id)s, %(child_id)s, %(enrollment_year_start)s, %(limit_kind)s, %(threshold)s, %(letter)s,
        %(channel)s, %(provider_id)s, %(outcome)s, %(location)s, %(period_start)s, %(run_id)s, now())
ON CONFLICT ON CONSTRAINT delivery_once DO NOTHING;
