-- A retried extract task replaces exactly what its previous try staged.
DELETE FROM staging.source_record WHERE run_id = %(run_id)s AND source = %(source)s AND batch_no = %(batch_no)s;
DELETE FROM staging.site_extract WHERE run_id = %(run_id)s AND source = %(source)s AND batch_no = %(batch_no)s;
DELETE FROM staging.quarantine WHERE run_id = %(run_id)s AND source = %(source)s AND batch_no = %(batch_no)s;
DELETE FROM staging.exception WHERE run_id = %(run_id)s AND stage = %(stage)s;
DELETE FROM staging.source_judged WHERE run_id = %(run_id)s AND source = %(source)s;
