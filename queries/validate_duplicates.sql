-- Exact duplicate rows of the export (all columns equal): rows beyond the first of each identical group.
SELECT
    (SELECT count(*) FROM raw_events)
  - (SELECT count(*) FROM (SELECT DISTINCT * FROM raw_events) AS distinct_rows) AS duplicate_rows;
