-- A repeatable sample of one column's non-null values, as text, for personal-data detection.
-- Template data: column, a column of the raw export (quoted here); the sample size (2,000 rows) must be a constant here.
SELECT CAST({{ column | ident }} AS VARCHAR) AS value
FROM raw_events
WHERE {{ column | ident }} IS NOT NULL
USING SAMPLE reservoir(2000 ROWS) REPEATABLE (7);
