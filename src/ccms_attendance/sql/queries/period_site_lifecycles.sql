-- The lifecycle of every site-period of a period, after a load swapped its rows in.
SELECT lifecycle FROM reconciled.site_period WHERE period_start = %(period_start)s;
