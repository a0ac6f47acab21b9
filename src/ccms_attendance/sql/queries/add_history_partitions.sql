-- The period's partitions of history.daily_attendance, absence_summary and exception, created and
-- attached if missing (migration V016); the number added. pipeline.load runs it before the load's
-- transaction: ATTACH PARTITION locks the parent SHARE UPDATE EXCLUSIVE until commit.
SELECT history.add_period_partitions(%(period_start)s) AS added;
