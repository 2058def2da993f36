-- [1] raw_events_view (queries/raw_events_view.sql)
-- The export as it is: every file of the source, columns under their own names.
-- The file list is bound through the session variable `shortvid_files` (views cannot take parameters).
-- Template data: hive, chosen by the source layer (folder or glob: read hive partitions).
CREATE OR REPLACE VIEW raw_events AS
SELECT *
FROM read_parquet(getvariable('shortvid_files'), hive_partitioning = true, union_by_name = true);

-- [2] source_checks (queries/source_checks.sql)
-- One pass over the export checking what every analysis relies on (source.py refuses or drops what fails):
-- rows, NULLs in the required columns, rows lacking any of them, the first and last event time, event-time
-- text that does not parse, non-finite and negative revenue. Only when something fails does source.py read
-- further (which files hold the rows, how many rows lie outside the supported years).
-- Fragments (chosen by source.py from the export's column types, over raw_events' own column names):
--   event_time: the event-time column as an orderable value (the integer epoch itself, or the timestamp);
--     a typed NULL when its type is unusable;
--   event_time_raw, user_id, event_name: the names of the columns (quoted here);
--   unparsed: TRUE for a non-NULL event time that is not a timestamp (text that does not parse), else FALSE;
--   revenue: the revenue column as DOUBLE, or a typed NULL when the export has none.
SELECT
    count(*)                                                                AS rows,
    count(*) - count("event_time")                                  AS null_event_time,
    count(*) - count("user_id")                                         AS null_user_id,
    count(*) - count("event_name")                                      AS null_event_name,
    count(*) FILTER (WHERE "event_time" IS NULL OR "user_id" IS NULL
                     OR "event_name" IS NULL)                           AS incomplete,
    min(epoch_us("event_time"))                                                   AS first_time,
    max(epoch_us("event_time"))                                                   AS last_time,
    count(*) FILTER (WHERE FALSE)                                  AS unparsed_time,
    max(CAST("event_time" AS VARCHAR)) FILTER (WHERE FALSE) AS unparsed_example,
    count(*) FILTER (WHERE isnan(CAST("revenue" AS DOUBLE))
                     OR abs(CAST("revenue" AS DOUBLE)) = CAST('Infinity' AS DOUBLE))     AS nonfinite_revenue,
    max(CAST(CAST("revenue" AS DOUBLE) AS VARCHAR)) FILTER (WHERE isnan(CAST("revenue" AS DOUBLE))
                     OR abs(CAST("revenue" AS DOUBLE)) = CAST('Infinity' AS DOUBLE))     AS nonfinite_example,
    -- negative: finite and below zero (-inf is counted as non-finite)
    count(*) FILTER (WHERE CAST("revenue" AS DOUBLE) < 0
                     AND CAST("revenue" AS DOUBLE) > CAST('-Infinity' AS DOUBLE))        AS negative_revenue,
    min(CAST("revenue" AS DOUBLE)) FILTER (WHERE CAST("revenue" AS DOUBLE) < 0
                     AND CAST("revenue" AS DOUBLE) > CAST('-Infinity' AS DOUBLE))        AS lowest_revenue,
    max(CAST("event_name" AS VARCHAR)) FILTER (WHERE CAST("revenue" AS DOUBLE) < 0
                     AND CAST("revenue" AS DOUBLE) > CAST('-Infinity' AS DOUBLE))        AS negative_event
FROM raw_events;

-- [3] events_view (queries/events_view.sql)
-- Canonical view of the export.
-- Template data: canonical = one expression per canonical column (quoted source identifiers, casts,
-- time conversions and event-name aliases built by source.py); properties = the export's other
-- columns, kept as properties usable in filters and breakdowns.
-- The complete fragment is TRUE, or the predicate keeping only rows whose required columns are all set
-- (source.py drops the others with a warning, so that no analysis meets a NULL time, user or event).
-- The local_time fragment is the wall-clock time in the reporting time zone, the basis of every
-- day/week/month boundary: event_time itself for UTC, else a conversion through the session
-- variable shortvid_tz.
CREATE OR REPLACE VIEW events_all AS
SELECT
    canonical.*,
    canonical.event_time AS local_time
FROM (
    SELECT
        make_timestamp(epoch_us("event_time")) AS event_time,
        "user_id" AS user_id,
        CAST("event_name" AS VARCHAR) AS event_name,
        "session_id" AS session_id,
        "video_id" AS video_id,
        "creator_id" AS creator_id,
        "product_id" AS product_id,
        "order_id" AS order_id,
        CAST("revenue" AS DOUBLE) AS revenue,
        CAST("watch_time_s" AS DOUBLE) AS watch_time_s,
        "platform" AS platform,
        "traffic_source" AS traffic_source,
        "device" AS device,
        "region" AS region,
        "dt"
    FROM raw_events
    WHERE TRUE
) AS canonical;

-- [4] events_in_range_view (queries/events_in_range_view.sql)
-- Events inside the optional --from/--to range (inclusive local dates).
-- Template data: bounds = none without a range, else comparisons of local_time with the session
-- variables shortvid_from / shortvid_to (the day after --to), so an absent bound costs nothing per row;
-- where the reporting zone keeps one UTC offset around a bound, event_time is compared with the bound's
-- UTC instant instead (the same rows, no conversion per row).
CREATE OR REPLACE VIEW events AS
SELECT *
FROM events_all
WHERE TRUE;

-- [5] event_time_statistics (queries/event_time_statistics.sql)
--   $column = 'event_time'
--   $end = NULL
--   $files = ['examples/data/events/dt=2026-10-05/part-0000.parquet', 'examples/data/events/dt=2026-10-06/part-0000.parquet', 'examples/data/events/dt=2026-10-07/part-0000.parquet', 'examples/data/events/dt=2026-10-08/part-0000.parquet', 'examples/data/events/dt=2026-10-09/part-0000.parquet', 'examples/data/events/dt=2026-10-10/part-0000.parquet', 'examples/data/events/dt=2026-10-11/part-0000.parquet', 'examples/data/events/dt=2026-10-12/part-0000.parquet', 'examples/data/events/dt=2026-10-13/part-0000.parquet', 'examples/data/events/dt=2026-10-14/part-0000.parquet', 'examples/data/events/dt=2026-10-15/part-0000.parquet', 'examples/data/events/dt=2026-10-16/part-0000.parquet', 'examples/data/events/dt=2026-10-17/part-0000.parquet', 'examples/data/events/dt=2026-10-18/part-0000.parquet', 'examples/data/events/dt=2026-10-19/part-0000.parquet', 'examples/data/events/dt=2026-10-20/part-0000.parquet', 'examples/data/events/dt=2026-10-21/part-0000.parquet', 'examples/data/events/dt=2026-10-22/part-0000.parquet', 'examples/data/events/dt=2026-10-23/part-0000.parquet', 'examples/data/events/dt=2026-10-24/part-0000.parquet', 'examples/data/events/dt=2026-10-25/part-0000.parquet', 'examples/data/events/dt=2026-10-26/part-0000.parquet', 'examples/data/events/dt=2026-10-27/part-0000.parquet', 'examples/data/events/dt=2026-10-28/part-0000.parquet', 'examples/data/events/dt=2026-10-29/part-0000.parquet', 'examples/data/events/dt=2026-10-30/part-0000.parquet', 'examples/data/events/dt=2026-10-31/part-0000.parquet', 'examples/data/events/dt=2026-11-01/part-0000.parquet']
--   $start = NULL
-- The smallest and largest value of the export's event-time column, read from the Parquet footers'
-- row-group statistics instead of the data (source.py uses it only when event_time is that column's
-- timestamp unchanged). usable is false when some row group holding values lacks exact statistics;
-- the caller then scans.
-- in_range: some row group's smallest or largest value (each the time of a real row) lies in
-- [$start, $end), so that range holds an event; meets_range: some row group's [min, max] meets the
-- range at all (when none does, the range holds no event). Both false when $start/$end are NULL.
-- Parameters: $files (the Parquet files), $column (the export's name of the event-time column),
-- $start/$end (naive UTC instants, or NULL).
-- Fragment (chosen by source.py): stats_type = TIMESTAMPTZ or TIMESTAMP, the column's type.
WITH row_groups AS (
    SELECT
        TRY_CAST(stats_min_value AS TIMESTAMPTZ) AS low,
        TRY_CAST(stats_max_value AS TIMESTAMPTZ) AS high,
        coalesce(stats_null_count, -1) = num_values AS all_null,
        coalesce(min_is_exact, true) AND coalesce(max_is_exact, true) AS exact
    FROM parquet_metadata($files)
    WHERE path_in_schema = $column
)
SELECT
    min(low) AS first_time,
    max(high) AS last_time,
    -- every row group is all nulls or has exact statistics of this type (files may differ in type)
    coalesce(bool_and(all_null OR (low IS NOT NULL AND high IS NOT NULL AND exact)), false) AS usable,
    coalesce(bool_or((low >= $start AND low < $end) OR (high >= $start AND high < $end)), false) AS in_range,
    coalesce(bool_or(high >= $start AND low < $end), false) AS meets_range
FROM row_groups;

-- [6] observed_span (queries/observed_span.sql)
--   $first = TIMESTAMP '2026-10-05 00:06:10.927962'
--   $last = TIMESTAMP '2026-11-01 23:53:37.360753'
--   $tz = 'UTC'
-- The time span an export observes: the wall-clock time, in the reporting time zone, of its first and
-- last event, given as $first and $last (naive UTC, from EventSource.event_time_bounds: the Parquet
-- statistics where they suffice, else a scan). Whole export, ignoring --from/--to: the caller clips to
-- the range.
-- Parameters: $tz = the reporting time zone (IANA name); $first, $last.
SELECT
    timezone($tz, timezone('UTC', CAST($first AS TIMESTAMP))) AS first_local,
    timezone($tz, timezone('UTC', CAST($last AS TIMESTAMP))) AS last_local;

-- [7] retention (queries/retention.sql)
--   $p0 = 'video_view'
--   $p1 = 'purchase'
--   $recurring = FALSE
-- Retention cohorts: for every cohort entry, in which later periods the user did the return event.
--
-- A cohort entry is (user, cohort period): with $recurring = false the period of the user's first start
-- event in the range (one entry per user); with $recurring = true every period with a start event.
-- An entry returns in period r when the user did a return event in r, where r is after the cohort
-- period, or r is the cohort period and the return is at or after the entry's first start event (so a
-- start event that is also a return event counts for the cohort period itself).
--
-- Output: one row per (by_value, cohort, return_period) with
--   entries       = entries returning in return_period (NULL return_period: entries that never return)
--   last_entries  = entries whose LAST return period is return_period (feeds "unbounded" retention:
--                   returned in period k or later = sum of last_entries over periods >= k)
--   value_users   = distinct users with an entry of this by_value (the group size --min-group-size tests)
-- Cohort size = entries with NULL return_period + sum of last_entries over the cohort.
--
-- Cost: one scan of the start and return events together, aggregated straight away per user into the
-- first start and per (user, period) into the last return: the grouping key `period` is the event's
-- period for return events (every event in recurring mode) and NULL for the other start events, so that
-- most events (the start events, usually) are aggregated per user only. An event matching both
-- selectors counts as both. Everything after that works on those rows (a few per user), never on
-- events: the cohort is the period of the first start's local time, converted for that one instant.
--
-- Parameters: $recurring (BOOLEAN) and the values bound by the predicates.
-- Template data: start and return_event (event selectors, for the selector macro). Fragments (built by
-- retention.py):
-- period_start (local_time truncated to its day/week/month), cohort_start (the same truncation of the
-- local time of first_start). Template data: by (the breakdown property, or none).
WITH flagged AS (
    -- the selectors evaluated once per event
    SELECT
        user_id,
        event_time,
        local_time,
CAST(NULL AS VARCHAR)          AS by_value,
        (event_name IN ($p0))   AS is_start,
        (event_name IN ($p1))  AS is_return
    FROM events
    WHERE ((event_name IN ($p0)) OR (event_name IN ($p1)))
      AND user_id IS NOT NULL
      AND event_time IS NOT NULL
),
user_periods AS (
    SELECT
        user_id,
        CASE WHEN $recurring OR is_return THEN date_trunc('week', local_time) END  AS period,
        by_value,
        min(event_time) FILTER (WHERE is_start)                        AS first_start,
        max(event_time) FILTER (WHERE is_return)                       AS last_return
    FROM flagged
    GROUP BY 1, 2, 3
),
ranked_starts AS (
    -- an entry is the earliest start of the user (first-time) or of the user and period (recurring);
    -- with a breakdown there is one group per value: ties go to the smallest value so that the result
    -- is reproducible
    SELECT
        user_id,
        by_value,
        first_start,
        row_number() OVER (
            PARTITION BY user_id, CASE WHEN $recurring THEN period END
            ORDER BY first_start, by_value NULLS LAST
        ) AS start_rank
    FROM user_periods
    WHERE first_start IS NOT NULL
),
entries AS (
    SELECT user_id, date_trunc('week', first_start) AS cohort, by_value, first_start
    FROM ranked_starts
    WHERE start_rank = 1
),
return_periods AS (
    -- each user's last return event per period, and the user's last period with a return event: an
    -- entry's last return period is that one if it qualifies for the entry, else the entry never returns
    SELECT
        user_id,
        period,
        max(last_return)                         AS last_return,
        max(period) OVER (PARTITION BY user_id)  AS user_last_period
    FROM user_periods
    WHERE last_return IS NOT NULL
    GROUP BY 1, 2
),
returns AS (
    SELECT
        e.by_value,
        e.cohort,
        r.period AS return_period,
        r.user_last_period
    FROM entries AS e
    LEFT JOIN return_periods AS r
      ON r.user_id = e.user_id
     AND (r.period > e.cohort OR (r.period = e.cohort AND r.last_return >= e.first_start))
),
value_users AS (
    SELECT by_value, count(DISTINCT user_id) AS value_users
    FROM entries
    GROUP BY by_value
)
SELECT
    returns.by_value,
    cohort,
    return_period,
    count(*) AS entries,
    count(CASE WHEN return_period = user_last_period THEN 1 END) AS last_entries,
    max(value_users.value_users) AS value_users
FROM returns
JOIN value_users ON value_users.by_value IS NOT DISTINCT FROM returns.by_value
GROUP BY returns.by_value, cohort, return_period
ORDER BY returns.by_value NULLS LAST, cohort, return_period NULLS FIRST;
