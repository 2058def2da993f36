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

-- [5] ab_assignments_view (queries/ab_assignments_view.sql)
-- The experiment assignments file(s) as they are (experiment_id, user_id, variant, assigned_at, ...).
-- The file list is bound through the session variable `shortvid_ab_files` (views cannot take parameters).
-- Template data: hive, chosen by the source layer (folder or glob: read hive partitions).
CREATE OR REPLACE TEMP VIEW ab_assignments_raw AS
SELECT *
FROM read_parquet(getvariable('shortvid_ab_files'), hive_partitioning = false, union_by_name = true);

-- [6] ab_assignment_checks (queries/ab_assignment_checks.sql)
-- What the assignments must hold before any experiment is read (abtest/metrics.py refuses the rest):
-- rows, rows with each required column set, and the first and last assigned_at (epoch microseconds, UTC).
-- The assigned_at fragment converts the column to a naive UTC timestamp, or is a typed NULL when the
-- column's type is no timestamp (refused afterwards, naming the type).
SELECT
    count(*)                           AS rows,
    count(experiment_id)               AS experiment_id,
    count(user_id)                     AS user_id,
    count(variant)                     AS variant,
    count(assigned_at)                 AS assigned_at,
    min(epoch_us(make_timestamp(epoch_us("assigned_at"))))   AS first_assigned,
    max(epoch_us(make_timestamp(epoch_us("assigned_at"))))   AS last_assigned
FROM ab_assignments_raw;

-- [7] ab_experiments (queries/ab_experiments.sql)
-- Experiments in the assignments, with the number of rows lacking user_id, variant or assigned_at.
-- The assigned_at fragment converts the column to a naive UTC timestamp (built by abtest/metrics.py).
SELECT
    CAST(experiment_id AS VARCHAR) AS experiment_id,
    count(*)                       AS rows,
    sum(CASE WHEN user_id IS NULL OR variant IS NULL OR make_timestamp(epoch_us("assigned_at")) IS NULL THEN 1 ELSE 0 END)
                                   AS incomplete_rows
FROM ab_assignments_raw
WHERE experiment_id IS NOT NULL
GROUP BY CAST(experiment_id AS VARCHAR)
ORDER BY experiment_id;

-- [8] ab_assigned (queries/ab_assigned.sql)
--   $assigned_from = NULL
--   $assigned_to = NULL
--   $experiment = 'checkout_v2'
--   $pre_period = INTERVAL '0 seconds'
--   $window = NULL
-- One row per user of one experiment: their variant(s), first assignment time and analysis windows.
-- $experiment: the experiment id; $pre_period: INTERVAL before assignment read for the CUPED covariate
-- (0 = none); $window: INTERVAL after assignment counted by the metrics (NULL = no end).
-- Fragments (built by abtest/metrics.py): assigned_at = the column as naive UTC timestamp; join_key = the
-- user_id cast to the events' user_id type; segment = the --by column from the assignments, or NULL.
-- A user seen with more than one variant has variants > 1 and is left out of every analysis.
-- $assigned_from / $assigned_to: with --from/--to, only users first assigned in [from, to) (UTC bounds of
-- the local dates; NULL = open) are analysed.
CREATE OR REPLACE TEMP TABLE ab_assigned AS
SELECT
    user_id,
    "user_id"                              AS join_key,
    variant,
    variants,
    assigned_at,
    assigned_at - $pre_period                   AS pre_start,
    assigned_at + CAST($window AS INTERVAL)     AS post_end,
    segment
FROM (
    SELECT
        user_id,
        min(CAST(variant AS VARCHAR))           AS variant,
        count(DISTINCT CAST(variant AS VARCHAR)) AS variants,
        min(make_timestamp(epoch_us("assigned_at")))                  AS assigned_at,
        CAST(NULL AS VARCHAR)                           AS segment
    FROM ab_assignments_raw
    WHERE CAST(experiment_id AS VARCHAR) = $experiment
      AND user_id IS NOT NULL
      AND variant IS NOT NULL
      AND make_timestamp(epoch_us("assigned_at")) IS NOT NULL
    GROUP BY user_id
) AS per_user
WHERE ($assigned_from IS NULL OR assigned_at >= $assigned_from)
  AND ($assigned_to IS NULL OR assigned_at < $assigned_to);

-- [9] ab_assignment_summary (queries/ab_assignment_summary.sql)
-- Users per variant of ab_assigned; the row with a NULL variant counts users assigned to several variants.
-- first_needed/last_needed bound the event times any analysable user's metrics can read.
SELECT
    CASE WHEN variants = 1 THEN variant END AS variant,
    count(*)                                AS users,
    min(pre_start)                          AS first_needed,
    max(post_end)                           AS last_needed
FROM ab_assigned
GROUP BY CASE WHEN variants = 1 THEN variant END
ORDER BY variant NULLS LAST;

-- [10] ab_variant_sums (queries/ab_variant_sums.sql)
--   $p0 = 'purchase'
--   $time_from = TIMESTAMP '2026-10-19 00:01:31.731903'
--   $time_to = NULL
-- Per-variant (and per-segment) sums of per-user experiment metrics, in one pass over the events.
-- Reads ab_assigned (users with exactly one variant) and the events view.
-- $time_from / $time_to: bounds of the event times any user's windows reach ($time_to NULL = no bound);
-- they let the scan skip data outside the experiment.
-- Fragments (built by abtest/metrics.py from quoted identifiers and bound $parameters):
--   user_values:  per-user aggregates c<i>_post (events at/after assigned_at, before post_end) and
--                 c<i>_pre (CUPED: events in [pre_start, assigned_at)), optionally event_segment;
--   event_filter: the metrics' event predicates OR-ed (keeps the join small);
--   user_columns: the per-user values with 0 for users without events;
--   segment, segment_select, group_by: the optional --by breakdown (GROUPING SETS gives the overall rows);
--   cap_values:   aggregates only (one row): the count of analysed users and, with --cap q, per capped mean metric m<j> the pooled q-quantile of its per-user value
--                 (and of its CUPED covariate) over all analysed users, as GrowthBook's percentile capping;
--   sums:         n is count(*); per metric m<j>: sum, sum of squares, ratio denominator sums and the
--                 numerator x denominator cross-product, or the CUPED covariate sums and cross-product
--                 (capped values least(value, cap) where capping applies).
-- Sums of doubles use fsum (compensated summation) so that results do not depend on thread scheduling;
-- on engines without it, sum gives the same numbers up to the last bits.
WITH per_user AS (
    SELECT
        u.user_id,
        max(CASE WHEN e.event_time >= u.assigned_at AND (e.event_name IN ($p0)) THEN 1 ELSE 0 END) AS c0_post
    FROM ab_assigned AS u
    JOIN events AS e
      ON e.user_id = u.join_key
     AND e.event_time >= u.pre_start
     AND (u.post_end IS NULL OR e.event_time < u.post_end)
    WHERE u.variants = 1
      AND e.event_time >= $time_from
      AND ($time_to IS NULL OR e.event_time < $time_to)
      AND ((e.event_name IN ($p0)))
    GROUP BY u.user_id
),
users AS (
    SELECT
        u.variant,
        u.segment AS segment,
        CAST(coalesce(p.c0_post, 0) AS DOUBLE) AS c0_post
    FROM ab_assigned AS u
    LEFT JOIN per_user AS p ON p.user_id = u.user_id
    WHERE u.variants = 1
),
caps AS (
    SELECT count(*) AS analysed_users
    FROM users
)
SELECT
    variant,
    CAST(NULL AS VARCHAR) AS segment, 1 AS overall,
    count(*) AS users,
    fsum(c0_post) AS m0_sum,
    fsum(c0_post * c0_post) AS m0_sum_squares
FROM users
CROSS JOIN caps
GROUP BY variant
ORDER BY overall DESC, segment, variant;
