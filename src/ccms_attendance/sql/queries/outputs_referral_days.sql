-- The absence days that count towards one child's referral: absent days of the enrollment year
-- (or, for a consecutive run, the lookback before the crossing) up to the crossing day.
SELECT DISTINCT d.attendance_date
  FROM reconciled.daily_attendance d
 WHERE d.child_id = %(child_id)s AND d.status = 'absent'
   AND d.attendance_date BETWEEN %(from_day)s AND %(crossed_on)s
 ORDER BY d.attendance_date;
