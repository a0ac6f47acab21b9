-- The new version is current; whatever version was current before (even one loaded by an earlier
-- execution of this same run) is now superseded by it. kept_sites_json: the sites whose rows it kept
-- from the version it replaced, with the run that loaded them and why (kept_site_periods.sql).
UPDATE history.period_version
   SET superseded_at = now(), superseded_by_run = %(run_id)s
 WHERE period_start = %(period_start)s AND superseded_at IS NULL;
INSERT INTO history.period_version
       (period_start, run_id, dag_id, loaded_at, loaded_by, scope, checksum, lifecycle, kept_sites)
VALUES (%(period_start)s, %(run_id)s, %(dag_id)s, now(), %(loaded_by)s, %(scope)s, %(checksum)s, %(lifecycle)s,
        %(kept_sites_json)s);
