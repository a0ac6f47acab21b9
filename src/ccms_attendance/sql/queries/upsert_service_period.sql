INSERT INTO ref.service_period (period_start, period_end)
VALUES (%(period_start)s, %(period_end)s)
ON CONFLICT (period_start) DO NOTHING;
