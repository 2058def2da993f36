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

-- [5] paths_walk (queries/paths_walk.sql)
--   $by_session = FALSE
--   $collapse = FALSE
--   $forward = TRUE
--   $p0 = 'video_view'
--   $steps = 3
--   $window_seconds = 86400.0
-- User paths, stage 1: every path's horizon walked away from its anchor, into temp table path_walk.
--
-- Anchor: the first event (by event_time) matching the anchor selector among the events in the date
-- range, one per user, or one per (user, session) with $by_session. The anchor selector is --start in
-- forward mode ($forward true) and --end in backward mode.
-- Horizon: the events of the same user (and session) from events_all (not cut by the date range) on
-- the anchor's side: at or after the anchor time and at most $window_seconds later (forward), or at
-- or before it and at most $window_seconds earlier (backward); edges inclusive; $window_seconds is
-- NULL with $by_session (the session bounds the horizon).
-- Order: event_time, then, at equal times, anchor-selector events first (forward) or last (backward),
-- then event_name. The walk goes away from the anchor in that order: position 1 is the anchor.
-- Output, one row per kept event: path_id (numbers the anchors), user_id, position,
-- event_name, horizon_size (events in the horizon), converted (1 when the horizon, anchor included,
-- holds an event matching the end_predicate fragment, FALSE when there is no conversion event).
-- Kept: the first $steps positions; with $collapse instead every event starting a run of equal
-- event names (the next stage numbers the runs).
-- Template data: anchor and conversion (event selectors, for the selector macro over alias e; conversion
-- may be none: no event ends a path).
CREATE OR REPLACE TEMP TABLE path_walk AS
WITH anchors AS (
    SELECT
        e.user_id,
        CASE WHEN $by_session THEN CAST(e.session_id AS VARCHAR) ELSE '' END AS path_key,
        min(e.event_time) AS anchor_time
    FROM events AS e
    WHERE (e.event_name IN ($p0))
      AND e.user_id IS NOT NULL
      AND e.event_time IS NOT NULL
      AND (NOT $by_session OR e.session_id IS NOT NULL)
    GROUP BY 1, 2
),
horizons AS (
    SELECT
        row_number() OVER () AS path_id,
        user_id,
        path_key,
        CASE WHEN $forward THEN anchor_time
             ELSE anchor_time - INTERVAL ($window_seconds) SECOND END AS horizon_start,
        CASE WHEN $forward THEN anchor_time + INTERVAL ($window_seconds) SECOND
             ELSE anchor_time END AS horizon_end
    FROM anchors
),
horizon AS (
    SELECT
        h.path_id,
        h.user_id,
        e.event_time,
        e.event_name,
        -- 0 sorts first: anchor-selector events forward, the other events backward
        CASE WHEN coalesce((e.event_name IN ($p0)), FALSE) = $forward THEN 0 ELSE 1 END AS tie_rank,
        CASE WHEN FALSE THEN 1 ELSE 0 END AS is_end
    FROM events_all AS e
    JOIN horizons AS h
      ON e.user_id = h.user_id
     AND CASE WHEN $by_session THEN CAST(e.session_id AS VARCHAR) ELSE '' END = h.path_key
    WHERE e.event_name IS NOT NULL
      AND e.event_time IS NOT NULL
      AND (h.horizon_start IS NULL OR e.event_time >= h.horizon_start)
      AND (h.horizon_end IS NULL OR e.event_time <= h.horizon_end)
),
walked AS (
    SELECT
        path_id,
        user_id,
        event_name,
        row_number() OVER walk AS position,
        lag(event_name) OVER walk AS previous_name,
        count(*) OVER (walk ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS horizon_size,
        max(is_end) OVER (walk ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS converted
    FROM horizon
    WINDOW walk AS (
        PARTITION BY path_id
        ORDER BY CASE WHEN $forward THEN event_time END ASC,
                 CASE WHEN $forward THEN NULL ELSE event_time END DESC,
                 CASE WHEN $forward THEN tie_rank ELSE -tie_rank END ASC,
                 CASE WHEN $forward THEN event_name END ASC,
                 CASE WHEN $forward THEN NULL ELSE event_name END DESC
    )
)
SELECT path_id, user_id, position, event_name, horizon_size, converted
FROM walked
WHERE CASE WHEN $collapse THEN previous_name IS NULL OR previous_name <> event_name
           ELSE position <= $steps END;

-- [6] paths_steps (queries/paths_steps.sql)
--   $collapse = FALSE
--   $forward = TRUE
--   $steps = 3
-- User paths, stage 2: the steps of every path (temp table path_walk), one row per (path, step), into
-- temp table path_steps.
-- A step is one kept event of the walk, or with $collapse one run of equal event names, whose
-- repeats = events in the run (the gap to the next run start, or to the end of the horizon).
-- Output: path_id, user_id, step (1..$steps forward, -1..-$steps backward: the anchor is step 1 or
-- -1, so ORDER BY step is chronological), event_name, repeats, converted, previous_name (the
-- chronologically previous step's event, NULL at the path's first step) and is_last (true at the
-- path's chronologically last step).
CREATE OR REPLACE TEMP TABLE path_steps AS
WITH runs AS (
    SELECT
        path_id,
        user_id,
        event_name,
        converted,
        row_number() OVER walk AS step,
        count(*) OVER (walk ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS runs,
        CASE WHEN $collapse THEN coalesce(lead(position) OVER walk, horizon_size + 1) - position
             ELSE 1 END AS repeats,
        lag(event_name) OVER walk AS nearer_name,
        lead(event_name) OVER walk AS farther_name
    FROM path_walk
    WINDOW walk AS (PARTITION BY path_id ORDER BY position)
)
SELECT
    path_id,
    user_id,
    CASE WHEN $forward THEN step ELSE -step END AS step,
    event_name,
    repeats,
    converted,
    CASE WHEN $forward THEN nearer_name
         WHEN step < least(runs, $steps) THEN farther_name END AS previous_name,
    CASE WHEN $forward THEN step = least(runs, $steps) ELSE step = 1 END AS is_last
FROM runs
WHERE step <= $steps;

-- [7] paths_sequences (queries/paths_sequences.sql)
--   $p1 = 1
--   $p2 = 2
--   $p3 = 3
-- User paths, stage 3: one row per path (temp table path_steps) into temp table path_sequences.
-- The steps are pivoted into columns event_k / repeats_k, k = 1..--steps counted from the anchor (NULL
-- beyond the path's length; step_params: the placeholders of the parameters holding k); converted: 0 or 1
-- (see paths_walk).
CREATE OR REPLACE TEMP TABLE path_sequences AS
SELECT
    path_id,
    user_id,
    max(converted) AS converted,
    max(CASE WHEN abs(step) = $p1 THEN event_name END) AS "event_1",
    max(CASE WHEN abs(step) = $p1 THEN repeats END) AS "repeats_1",
    max(CASE WHEN abs(step) = $p2 THEN event_name END) AS "event_2",
    max(CASE WHEN abs(step) = $p2 THEN repeats END) AS "repeats_2",
    max(CASE WHEN abs(step) = $p3 THEN event_name END) AS "event_3",
    max(CASE WHEN abs(step) = $p3 THEN repeats END) AS "repeats_3"
FROM path_steps
GROUP BY path_id, user_id;

-- [8] paths_totals (queries/paths_totals.sql)
--   $min_group_size = 1
-- User paths: totals over every path (temp table path_sequences): paths, distinct users, distinct
-- sequences (of the key columns event_k, repeats_k, see paths_sequences), converted paths and distinct users
-- with a converted path; suppressed_paths / suppressed_sequences: the paths and sequences of the
-- sequences with fewer than $min_group_size distinct users (small-cell suppression, docs/privacy.md).
WITH per_sequence AS (
    SELECT count(*) AS paths, count(DISTINCT user_id) AS users
    FROM path_sequences
    GROUP BY "event_1", "repeats_1", "event_2", "repeats_2", "event_3", "repeats_3"
)
SELECT
    count(*) AS paths,
    count(DISTINCT user_id) AS users,
    (SELECT count(*) FROM per_sequence) AS sequences,
    CAST(coalesce(sum(converted), 0) AS BIGINT) AS converted_paths,
    count(DISTINCT CASE WHEN converted = 1 THEN user_id END) AS converted_users,
    (SELECT CAST(coalesce(sum(paths), 0) AS BIGINT) FROM per_sequence WHERE users < $min_group_size)
        AS suppressed_paths,
    (SELECT count(*) FROM per_sequence WHERE users < $min_group_size) AS suppressed_sequences
FROM path_sequences;

-- [9] paths_top (queries/paths_top.sql)
--   $min_group_size = 1
--   $top = 20
-- User paths: the $top most frequent sequences (temp table path_sequences), most paths first.
-- The key columns are event_k, repeats_k for k = 1..--steps (see paths_sequences).
-- paths: paths with this sequence; users: distinct users with at least one such path;
-- converted_paths / converted_users: the same restricted to converted paths.
-- Ties are broken by users, then by the key columns in order (a missing step first), so the ranking
-- is deterministic. Sequences of fewer than $min_group_size distinct users are never listed (small-cell
-- suppression, docs/privacy.md; paths_totals.sql sums them).
SELECT
    "event_1", "repeats_1", "event_2", "repeats_2", "event_3", "repeats_3",
    count(*) AS paths,
    count(DISTINCT user_id) AS users,
    CAST(sum(converted) AS BIGINT) AS converted_paths,
    count(DISTINCT CASE WHEN converted = 1 THEN user_id END) AS converted_users
FROM path_sequences
GROUP BY "event_1", "repeats_1", "event_2", "repeats_2", "event_3", "repeats_3"
HAVING count(DISTINCT user_id) >= $min_group_size
ORDER BY paths DESC, users DESC, "event_1" NULLS FIRST, "repeats_1" NULLS FIRST, "event_2" NULLS FIRST, "repeats_2" NULLS FIRST, "event_3" NULLS FIRST, "repeats_3" NULLS FIRST
LIMIT $top;

-- [10] paths_transitions (queries/paths_transitions.sql)
--   $path_end = '(path_end)'
--   $path_start = '(path_start)'
-- User paths: transition counts between consecutive steps of every path (temp table path_steps),
-- each path framed as $path_start -> step ... step -> $path_end in chronological order.
-- Output: from_state, to_state, transitions (count over all paths).
SELECT coalesce(previous_name, $path_start) AS from_state, event_name AS to_state, count(*) AS transitions
FROM path_steps
GROUP BY 1, 2
UNION ALL
SELECT event_name AS from_state, $path_end AS to_state, count(*) AS transitions
FROM path_steps
WHERE is_last
GROUP BY 1
ORDER BY from_state, to_state;

-- [11] paths_step_matrix (queries/paths_step_matrix.sql)
-- User paths: how many paths are at each event in each step (temp table path_steps).
-- step: 1..n from the start event (forward) or -1..-n back from the end event (backward).
SELECT step, event_name, count(*) AS paths
FROM path_steps
GROUP BY step, event_name
ORDER BY step, paths DESC, event_name;
