-- Sources with records staged for the run that the validate task has not judged since they were
-- staged (V020: re-staging a batch clears the source's mark): the validate task did not complete,
-- or an extract was cleared and run again without it, so their data must not be used. One index
-- probe per source (not a pass over every staged record).
SELECT s.source
  FROM unnest(%(sources)s::text[]) AS s(source)
 WHERE EXISTS (SELECT 1
                 FROM staging.source_record r
                WHERE r.run_id = %(run_id)s AND r.source = s.source)
   AND NOT EXISTS (SELECT 1
                     FROM staging.source_judged j
                    WHERE j.run_id = %(run_id)s AND j.source = s.source)
 ORDER BY s.source;
