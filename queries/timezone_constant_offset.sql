-- The span of UTC time around $today over which time zone $tz keeps one UTC offset, and that offset.
-- Within it a local wall-clock time is the UTC time plus the offset, which costs nothing per row where
-- the ICU conversion timezone($tz, ...) is the most expensive step of a scan; source.py converts rows
-- outside the span with ICU, so the result is the same for every row.
-- The offset is sampled (by ICU itself, so both conversions agree) at every UTC midnight from 1970 to 2100:
-- the span runs from the first to the last sample of the run of equal offsets that holds $today (time
-- zones do not change their offset twice within a day). No row when $today lies outside the sampled years.
-- Parameters: $tz (IANA name), $today (TIMESTAMP, a UTC midnight).
WITH
samples AS (
    SELECT day, timezone($tz, timezone('UTC', day)) - day AS utc_offset
    FROM range(TIMESTAMP '1970-01-01', TIMESTAMP '2100-01-01', INTERVAL 1 DAY) AS t(day)
),
runs AS (
    -- run number: how many offset changes happened up to this sample
    SELECT
        day,
        utc_offset,
        sum(CASE WHEN utc_offset IS DISTINCT FROM previous_offset THEN 1 ELSE 0 END) OVER (ORDER BY day) AS run
    FROM (SELECT *, lag(utc_offset) OVER (ORDER BY day) AS previous_offset FROM samples) AS sampled
)
SELECT min(day) AS span_start, max(day) AS span_end, any_value(utc_offset) AS utc_offset
FROM runs
WHERE run = (SELECT run FROM runs WHERE day = $today)
HAVING count(*) > 0;
