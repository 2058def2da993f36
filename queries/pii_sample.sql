-- A repeatable sample of one column's non-null values, as text, for personal-data detection.
-- The column fragment is a quoted identifier of the raw export; the sample size (2,000 rows) must be a constant here.
SELECT CAST({{ column }} AS VARCHAR) AS value
FROM raw_events
WHERE {{ column }} IS NOT NULL
USING SAMPLE reservoir(2000 ROWS) REPEATABLE (7);
