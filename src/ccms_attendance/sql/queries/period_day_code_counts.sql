-- Child-days per day code and site for one period (PR present, AB, OD, PC, NP).
SELECT site_id,
       count(*) FILTER (WHERE day_code = 'PR')::int AS "PR",
       count(*) FILTER (WHERE day_code = 'AB')::int AS "AB",
       count(*) FILTER (WHERE day_code = 'OD')::int AS "OD",
       count(*) FILTER (WHERE day_code = 'PC')::int AS "PC",
       count(*) FILTER (WHERE day_code = 'NP')::int AS "NP"
  FROM reconciled.daily_attendance
 WHERE period_start = %(period_start)s
 GROUP BY site_id
 ORDER BY site_id;
