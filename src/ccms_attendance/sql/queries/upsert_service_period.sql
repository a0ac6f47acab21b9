-- Record the period a run covers, with its submission deadline (configuration may have changed it).
INSERT INTO ref.service_period (period_start, period_end, submission_deadline)
VALUES (%(period_start)s, %(period_end)s, %(submission_deadline)s)
ON CONFLICT (period_start) DO UPDATE
   SET submission_deadline = EXCLUDED.submission_deadline
 WHERE ref.service_period.submission_deadline IS DISTINCT FROM EXCLUDED.submission_deadline;
