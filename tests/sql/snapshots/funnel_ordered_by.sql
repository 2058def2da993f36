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

-- [5] funnel_best (queries/funnel_best.sql)
--   $date_from = NULL
--   $date_to_exclusive = NULL
--   $has_hold = FALSE
--   $last_bit = 4
--   $n_steps = 3
--   $p0 = 'video_view'
--   $p1 = 'product_click'
--   $p2 = 'purchase'
--   $p3 = 'product_click'
--   $p4 = 'purchase'
--   $scan_from = NULL
--   $scan_to = NULL
--   $unreachable = 9223372036854775807
--   $window_us = 86400000000
-- Funnel: the counted attempt of every user (and, with --trends, of every user and entry cohort), into the
-- temporary table funnel_best.
--
-- The attempts fragment is the query of the chosen order (funnel_ordered.sql, funnel_strict.sql or
-- funnel_unordered.sql) reading `tagged` (funnel_events.sql, the funnel_events fragment); its own CTEs must
-- not be named tagged, attempts or best (Spark SQL gives nested CTEs one namespace); each attempt has
-- its level (the last step reached within the window) and tau_2 .. tau_n (epoch microseconds of steps
-- 2..n, NULL beyond the level; fragments tau_fields and tau_list name them).
-- The counted attempt is the one reaching the highest level; among those the earliest in canonical order
-- (t, step_rank, mask, hold_value, by_value), then the one completing its steps earliest (this only separates
-- identical simultaneous entries, the first of which completes earliest). cohort is the entry's --trends
-- period (NULL without --trends). taus lists the times of steps 1..level.
CREATE OR REPLACE TEMP TABLE funnel_best AS
WITH
tagged AS NOT MATERIALIZED (
    -- Funnel: the events as the funnel sees them. Included as the relation `tagged` by funnel_best.sql,
-- funnel_unordered_times.sql and funnel_users.sql (a NOT MATERIALIZED CTE: every reference re-reads the
-- source with its own filters, so nothing the size of the events is held twice).
--
-- One row per event of the scanned span:
--   t             event time in microseconds since the Unix epoch (UTC)
--   mask          bit j-1 is set when the event matches step j (0: it matches no step)
--   step_rank     the lowest step the event matches ($n_steps + 1 when none): simultaneous events are taken
--                 in funnel order, events outside the funnel last
--   hold_value    the --hold property (NULL without --hold)
--   by_value      the --by property (NULL without --by)
--   cohort        start of the event's --trends period in local time (NULL without --trends)
--   in_range      the event lies in the --from/--to range (local dates), so it may start an attempt
--   is_exclusion  the event matches an --exclude selector
-- Fragments (built from the step selectors, quoted identifiers and bound values only): step_mask,
-- hold_value, by_value, cohort, exclusion; event_filter (TRUE, or a predicate on the events view keeping
-- only the events a query needs, written so that DuckDB pushes it into the Parquet scan).
-- Parameters: $n_steps; $date_from, $date_to_exclusive (local timestamps, NULL = open);
-- $scan_from, $scan_to (local timestamps, NULL = open): a generous prefilter, the entry range widened by
-- a day before and by the window plus a day after (events outside it can never play a part).
-- Rows without user, time or event name are ignored.
SELECT
    user_id,
    t,
    mask,
    -- lowest set bit of mask = lowest step matched
    CASE WHEN mask = 0 THEN $n_steps + 1 ELSE CAST(log2(mask & -mask) AS INTEGER) + 1 END AS step_rank,
    hold_value,
    by_value,
    cohort,
    in_range,
    is_exclusion
FROM (
    SELECT
        user_id,
        epoch_us(event_time) AS t,
        (CASE WHEN (event_name IN ($p0)) THEN 1 ELSE 0 END + CASE WHEN (event_name IN ($p1)) THEN 2 ELSE 0 END + CASE WHEN (event_name IN ($p2)) THEN 4 ELSE 0 END) AS mask,
        CAST(NULL AS VARCHAR) AS hold_value,
        "platform" AS by_value,
        CAST(NULL AS TIMESTAMP) AS cohort,
        (CAST($date_from AS TIMESTAMP) IS NULL OR local_time >= CAST($date_from AS TIMESTAMP))
            AND (CAST($date_to_exclusive AS TIMESTAMP) IS NULL
                 OR local_time < CAST($date_to_exclusive AS TIMESTAMP)) AS in_range,
        (FALSE) AS is_exclusion
    FROM events_all
    WHERE user_id IS NOT NULL
      AND event_time IS NOT NULL
      AND event_name IS NOT NULL
      AND (CAST($scan_from AS TIMESTAMP) IS NULL OR local_time >= CAST($scan_from AS TIMESTAMP))
      AND (CAST($scan_to AS TIMESTAMP) IS NULL OR local_time < CAST($scan_to AS TIMESTAMP))
      AND TRUE
) AS scanned

),
attempts AS (
    -- Funnel, --order ordered, when no event can play two steps (the steps share no event name): the same
-- counted attempts as funnel_ordered.sql without sorting the step-1 events, usually the bulk of the data.
-- Reads the events twice through funnel_events.sql, with filters DuckDB pushes into the Parquet scan:
-- the fragment later_events keeps the events of steps 2 .. n, entry_events those of step 1.
-- Output: the attempt candidates of funnel_best.sql (user_id, cohort, t, step_rank, mask, hold_value,
-- by_value, level, tau_2 .. tau_n), among them every (user, cohort)'s counted attempt; each candidate is a
-- real attempt with its true level, except that the row of a (user, cohort) whose attempts all stop at
-- step 1 is its first entry.
--
-- Why this is the same: the greedy chain of an entry s takes as step 2 the first step-2 event c at or after
-- s in canonical order, and from there on depends on c only. So the step-2 events split the entries into
-- groups (the entries after the previous step-2 event c_prev, up to c), each sharing c's chain tau_2 = t(c),
-- tau_3, ..., tau_n. An entry s of the group reaches step m exactly when tau_m <= t(s) + $window_us: the
-- group's best level is that of its latest entry, and the earliest entry reaching level m is the earliest
-- with t(s) >= tau_m - $window_us. An entry reaches step 2 only if t(c) <= t(s) + $window_us, so groups
-- are found with an equality join on (user, held value, t // $window_us) against the step-2 events keyed
-- by their own bucket and the one before, plus the range conditions: the step-1 events stream through a
-- hash table of the few step-2 events and are aggregated straight away, never sorted or held.
--
-- Ties: a step-1 event simultaneous with a step-2 event comes first in canonical order, so it belongs to that
-- event's group (t(c_prev) < t(s) <= t(c)); of simultaneous step-2 events only the first has entries.
-- Parameters: $has_hold, $last_bit, $window_us, $unreachable.
-- Passes: the macro ordered_passes (_macros.sql: funnel_ordered_last.sql, then funnel_ordered_pass.sql for
-- k = n-1 .. 2, the last one named pass_2). Fragments: entry_events, later_events; user_partition; group_taus (", tau_3, ..., tau_n", may be
-- empty); level (the group's level from last_entry); first_reaching (", min(entry) FILTER (WHERE t >=
-- tau_m - $window_us) AS first_entry_m" for m = 3 .. n); counted_entry (the entry reaching the level: a CASE
-- over first_entry and first_entry_m); reached_taus (tau_2 .. tau_n, NULL beyond the level).
WITH
roles AS MATERIALIZED (
    -- the events of steps 2 .. n (few): read once, kept for the passes
    SELECT
        user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range,
        CASE WHEN $has_hold AND hold_value IS NULL THEN 0 ELSE mask END AS role_mask
    FROM (
        -- Funnel: the events as the funnel sees them. Included as the relation `tagged` by funnel_best.sql,
-- funnel_unordered_times.sql and funnel_users.sql (a NOT MATERIALIZED CTE: every reference re-reads the
-- source with its own filters, so nothing the size of the events is held twice).
--
-- One row per event of the scanned span:
--   t             event time in microseconds since the Unix epoch (UTC)
--   mask          bit j-1 is set when the event matches step j (0: it matches no step)
--   step_rank     the lowest step the event matches ($n_steps + 1 when none): simultaneous events are taken
--                 in funnel order, events outside the funnel last
--   hold_value    the --hold property (NULL without --hold)
--   by_value      the --by property (NULL without --by)
--   cohort        start of the event's --trends period in local time (NULL without --trends)
--   in_range      the event lies in the --from/--to range (local dates), so it may start an attempt
--   is_exclusion  the event matches an --exclude selector
-- Fragments (built from the step selectors, quoted identifiers and bound values only): step_mask,
-- hold_value, by_value, cohort, exclusion; event_filter (TRUE, or a predicate on the events view keeping
-- only the events a query needs, written so that DuckDB pushes it into the Parquet scan).
-- Parameters: $n_steps; $date_from, $date_to_exclusive (local timestamps, NULL = open);
-- $scan_from, $scan_to (local timestamps, NULL = open): a generous prefilter, the entry range widened by
-- a day before and by the window plus a day after (events outside it can never play a part).
-- Rows without user, time or event name are ignored.
SELECT
    user_id,
    t,
    mask,
    -- lowest set bit of mask = lowest step matched
    CASE WHEN mask = 0 THEN $n_steps + 1 ELSE CAST(log2(mask & -mask) AS INTEGER) + 1 END AS step_rank,
    hold_value,
    by_value,
    cohort,
    in_range,
    is_exclusion
FROM (
    SELECT
        user_id,
        epoch_us(event_time) AS t,
        (CASE WHEN (event_name IN ($p0)) THEN 1 ELSE 0 END + CASE WHEN (event_name IN ($p1)) THEN 2 ELSE 0 END + CASE WHEN (event_name IN ($p2)) THEN 4 ELSE 0 END) AS mask,
        CAST(NULL AS VARCHAR) AS hold_value,
        "platform" AS by_value,
        CAST(NULL AS TIMESTAMP) AS cohort,
        (CAST($date_from AS TIMESTAMP) IS NULL OR local_time >= CAST($date_from AS TIMESTAMP))
            AND (CAST($date_to_exclusive AS TIMESTAMP) IS NULL
                 OR local_time < CAST($date_to_exclusive AS TIMESTAMP)) AS in_range,
        (FALSE) AS is_exclusion
    FROM events_all
    WHERE user_id IS NOT NULL
      AND event_time IS NOT NULL
      AND event_name IS NOT NULL
      AND (CAST($scan_from AS TIMESTAMP) IS NULL OR local_time >= CAST($scan_from AS TIMESTAMP))
      AND (CAST($scan_to AS TIMESTAMP) IS NULL OR local_time < CAST($scan_to AS TIMESTAMP))
      AND event_name IN ($p3, $p4) AND (((event_name IN ($p1))) OR ((event_name IN ($p2))))
) AS scanned

    ) AS later_events
),
-- Funnel, --order ordered: the first of the backward passes (funnel_ordered.sql, funnel_ordered_sparse.sql),
-- rendered before the passes of funnel_ordered_pass.sql. Events able to play the last step: their chain
-- ends with them. Reads `roles` (the events with the steps they may play, role_mask).
-- Parameter: $last_bit (mask bit of the last step). Template data: n (the number of steps).
pass_last AS (
    SELECT user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range, role_mask, CAST(NULL AS BIGINT) AS tau_2, CAST(NULL AS BIGINT) AS tau_3
    FROM roles
    WHERE role_mask & $last_bit <> 0
),

-- Funnel, --order ordered: one backward pass, rendered by funnel_ordered.sql for each step k = n-1 .. 1.
-- Every event able to play step k gets the times of the greedy chain that follows it: the first later event,
-- in canonical order within the same user and held value, able to play step k+1, then that event's own chain.
-- Template data: k (this step), n (the number of steps), previous (the pass of step k+1, whose events carry
-- their chains), user_partition (user_id, and hold_value with --hold), canonical_order (t, step_rank, mask,
-- and by_value with --by: the canonical order within a partition, keys that are constant left out).
-- Mask bits: step k is 2, step k+1 is 4. next_tau_m: first_value over the window
-- `later` of the next step-(k+1) event's time and chain; tau_m of this pass: NULL up to step k, then the
-- next_tau_m or $unreachable.
pass_2 AS (
    SELECT
        user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range, role_mask,
        CAST(NULL AS BIGINT) AS tau_2,
        coalesce(next_tau_3, $unreachable) AS tau_3
    FROM (
        SELECT
            *,
            first_value(CASE WHEN role_mask & 4 <> 0 THEN t END IGNORE NULLS) OVER later AS next_tau_3
        FROM (
            SELECT
                user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range, role_mask,
                tau_2, tau_3
            FROM pass_last
            UNION ALL
            SELECT
                user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range, role_mask, CAST(NULL AS BIGINT) AS tau_2, CAST(NULL AS BIGINT) AS tau_3
            FROM roles
            WHERE role_mask & 2 <> 0 AND role_mask & 4 = 0
        ) AS candidates
        WINDOW later AS (
            PARTITION BY user_id
            ORDER BY t, step_rank, mask, by_value NULLS LAST
            ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        )
    ) AS linked
    WHERE role_mask & 2 <> 0
),


step_two AS (
    -- every event able to play step 2 with its chain, and the time of the previous one of its partition
    SELECT
        user_id,
        hold_value,
        t AS tau_2, tau_3,
        lag(t) OVER (PARTITION BY user_id ORDER BY t) AS previous_t,
        t // $window_us AS bucket
    FROM pass_2
),
keyed AS (
    -- each group under the buckets its entries may lie in: its own and the one before
    SELECT *, bucket AS entry_bucket FROM step_two
    UNION ALL
    SELECT *, bucket - 1 AS entry_bucket FROM step_two
),
linked AS (
    -- every entry with the group it belongs to when it reaches step 2 (else NULLs)
    SELECT
        e.user_id, e.cohort, e.t, e.entry, g.hold_value AS group_hold, g.tau_2, tau_3
    FROM (
        SELECT
            user_id, cohort, t, hold_value,
            -- the entry's place in canonical order (t, then held and by values, missing last) and what we keep
            struct_pack(t := t, hold_missing := hold_value IS NULL, hold_value := hold_value,
                        by_missing := by_value IS NULL, by_value := by_value) AS entry,
            t // $window_us AS bucket
        FROM (
            -- Funnel: the events as the funnel sees them. Included as the relation `tagged` by funnel_best.sql,
-- funnel_unordered_times.sql and funnel_users.sql (a NOT MATERIALIZED CTE: every reference re-reads the
-- source with its own filters, so nothing the size of the events is held twice).
--
-- One row per event of the scanned span:
--   t             event time in microseconds since the Unix epoch (UTC)
--   mask          bit j-1 is set when the event matches step j (0: it matches no step)
--   step_rank     the lowest step the event matches ($n_steps + 1 when none): simultaneous events are taken
--                 in funnel order, events outside the funnel last
--   hold_value    the --hold property (NULL without --hold)
--   by_value      the --by property (NULL without --by)
--   cohort        start of the event's --trends period in local time (NULL without --trends)
--   in_range      the event lies in the --from/--to range (local dates), so it may start an attempt
--   is_exclusion  the event matches an --exclude selector
-- Fragments (built from the step selectors, quoted identifiers and bound values only): step_mask,
-- hold_value, by_value, cohort, exclusion; event_filter (TRUE, or a predicate on the events view keeping
-- only the events a query needs, written so that DuckDB pushes it into the Parquet scan).
-- Parameters: $n_steps; $date_from, $date_to_exclusive (local timestamps, NULL = open);
-- $scan_from, $scan_to (local timestamps, NULL = open): a generous prefilter, the entry range widened by
-- a day before and by the window plus a day after (events outside it can never play a part).
-- Rows without user, time or event name are ignored.
SELECT
    user_id,
    t,
    mask,
    -- lowest set bit of mask = lowest step matched
    CASE WHEN mask = 0 THEN $n_steps + 1 ELSE CAST(log2(mask & -mask) AS INTEGER) + 1 END AS step_rank,
    hold_value,
    by_value,
    cohort,
    in_range,
    is_exclusion
FROM (
    SELECT
        user_id,
        epoch_us(event_time) AS t,
        (CASE WHEN (event_name IN ($p0)) THEN 1 ELSE 0 END + CASE WHEN (event_name IN ($p1)) THEN 2 ELSE 0 END + CASE WHEN (event_name IN ($p2)) THEN 4 ELSE 0 END) AS mask,
        CAST(NULL AS VARCHAR) AS hold_value,
        "platform" AS by_value,
        CAST(NULL AS TIMESTAMP) AS cohort,
        (CAST($date_from AS TIMESTAMP) IS NULL OR local_time >= CAST($date_from AS TIMESTAMP))
            AND (CAST($date_to_exclusive AS TIMESTAMP) IS NULL
                 OR local_time < CAST($date_to_exclusive AS TIMESTAMP)) AS in_range,
        (FALSE) AS is_exclusion
    FROM events_all
    WHERE user_id IS NOT NULL
      AND event_time IS NOT NULL
      AND event_name IS NOT NULL
      AND (CAST($scan_from AS TIMESTAMP) IS NULL OR local_time >= CAST($scan_from AS TIMESTAMP))
      AND (CAST($scan_to AS TIMESTAMP) IS NULL OR local_time < CAST($scan_to AS TIMESTAMP))
      AND (event_name IN ($p0))
) AS scanned

        ) AS entry_events
        WHERE in_range
    ) AS e
    LEFT JOIN keyed AS g
      ON g.user_id = e.user_id
     AND g.entry_bucket = e.bucket
     AND g.hold_value IS NOT DISTINCT FROM e.hold_value
     AND e.t <= g.tau_2
     AND g.tau_2 <= e.t + $window_us
     AND (g.previous_t IS NULL OR g.previous_t < e.t)
),
groups AS (
    SELECT
        user_id,
        cohort,
        tau_2, tau_3,
        max(t) AS last_entry,
        min(entry) AS first_entry,
        min(entry) FILTER (WHERE t >= tau_3 - $window_us) AS first_entry_3
    FROM linked
    GROUP BY user_id, cohort, group_hold, tau_2, tau_3
),
sparse_attempts AS (
    SELECT *, CASE level WHEN 3 THEN first_entry_3 ELSE first_entry END AS entry
    FROM (SELECT *, CASE WHEN tau_2 IS NULL THEN 1 ELSE CASE WHEN tau_3 <= last_entry + $window_us THEN 3 ELSE 2 END END AS level FROM groups) AS leveled
)
SELECT
    user_id, cohort, entry.t AS t, 1 AS step_rank, 1 AS mask, entry.hold_value AS hold_value,
    entry.by_value AS by_value, level, CASE WHEN level >= 2 THEN tau_2 END AS tau_2, CASE WHEN level >= 3 THEN tau_3 END AS tau_3
FROM sparse_attempts

),
best AS (
    SELECT
        user_id,
        cohort,
        -- min of a struct compares field by field: the sort key of the counted attempt, then what we keep
        min(struct_pack(
            neg_level := -level,
            t := t,
            step_rank := step_rank,
            mask := mask,
            hold_missing := hold_value IS NULL,
            hold_value := hold_value,
            by_missing := by_value IS NULL,
            by_value := by_value,
            tau_2 := tau_2, tau_3 := tau_3
        )) AS attempt
    FROM attempts
    GROUP BY ALL
)
SELECT
    user_id,
    cohort,
    attempt AS sort_key,
    -attempt.neg_level AS level,
    attempt.t AS entry_t,
    attempt.hold_value AS hold_value,
    attempt.by_value AS by_value,
    [attempt.t, attempt.tau_2, attempt.tau_3][1:-attempt.neg_level] AS taus
FROM best;

-- [6] funnel_users (queries/funnel_users.sql)
--   $date_from = NULL
--   $date_to_exclusive = NULL
--   $n_steps = 3
--   $p0 = 'video_view'
--   $p1 = 'product_click'
--   $p2 = 'purchase'
--   $scan_from = NULL
--   $scan_to = NULL
-- Funnel: funnel_best with the exclusion and counting flags, into the temporary table funnel_users.
--
-- excluded: the user did an --exclude event strictly after the entry of this attempt and strictly before
--           its last completed step (any event of the user, whatever its held value); the user is then left
--           out of the funnel (of this cohort, for --trends rows).
-- counted:  this row is the user's counted attempt over the whole date range (with --trends a user has a
--           row per entry cohort; the overall funnel uses the best of them).
-- Reads `tagged` (funnel_events.sql) for the exclusion events. The exclusion test is a join rather than
-- an EXISTS subquery in the select list, which Spark does not accept (funnel_best has one row per
-- user and cohort).
CREATE OR REPLACE TEMP TABLE funnel_users AS
WITH
tagged AS NOT MATERIALIZED (
    -- Funnel: the events as the funnel sees them. Included as the relation `tagged` by funnel_best.sql,
-- funnel_unordered_times.sql and funnel_users.sql (a NOT MATERIALIZED CTE: every reference re-reads the
-- source with its own filters, so nothing the size of the events is held twice).
--
-- One row per event of the scanned span:
--   t             event time in microseconds since the Unix epoch (UTC)
--   mask          bit j-1 is set when the event matches step j (0: it matches no step)
--   step_rank     the lowest step the event matches ($n_steps + 1 when none): simultaneous events are taken
--                 in funnel order, events outside the funnel last
--   hold_value    the --hold property (NULL without --hold)
--   by_value      the --by property (NULL without --by)
--   cohort        start of the event's --trends period in local time (NULL without --trends)
--   in_range      the event lies in the --from/--to range (local dates), so it may start an attempt
--   is_exclusion  the event matches an --exclude selector
-- Fragments (built from the step selectors, quoted identifiers and bound values only): step_mask,
-- hold_value, by_value, cohort, exclusion; event_filter (TRUE, or a predicate on the events view keeping
-- only the events a query needs, written so that DuckDB pushes it into the Parquet scan).
-- Parameters: $n_steps; $date_from, $date_to_exclusive (local timestamps, NULL = open);
-- $scan_from, $scan_to (local timestamps, NULL = open): a generous prefilter, the entry range widened by
-- a day before and by the window plus a day after (events outside it can never play a part).
-- Rows without user, time or event name are ignored.
SELECT
    user_id,
    t,
    mask,
    -- lowest set bit of mask = lowest step matched
    CASE WHEN mask = 0 THEN $n_steps + 1 ELSE CAST(log2(mask & -mask) AS INTEGER) + 1 END AS step_rank,
    hold_value,
    by_value,
    cohort,
    in_range,
    is_exclusion
FROM (
    SELECT
        user_id,
        epoch_us(event_time) AS t,
        (CASE WHEN (event_name IN ($p0)) THEN 1 ELSE 0 END + CASE WHEN (event_name IN ($p1)) THEN 2 ELSE 0 END + CASE WHEN (event_name IN ($p2)) THEN 4 ELSE 0 END) AS mask,
        CAST(NULL AS VARCHAR) AS hold_value,
        "platform" AS by_value,
        CAST(NULL AS TIMESTAMP) AS cohort,
        (CAST($date_from AS TIMESTAMP) IS NULL OR local_time >= CAST($date_from AS TIMESTAMP))
            AND (CAST($date_to_exclusive AS TIMESTAMP) IS NULL
                 OR local_time < CAST($date_to_exclusive AS TIMESTAMP)) AS in_range,
        (FALSE) AS is_exclusion
    FROM events_all
    WHERE user_id IS NOT NULL
      AND event_time IS NOT NULL
      AND event_name IS NOT NULL
      AND (CAST($scan_from AS TIMESTAMP) IS NULL OR local_time >= CAST($scan_from AS TIMESTAMP))
      AND (CAST($scan_to AS TIMESTAMP) IS NULL OR local_time < CAST($scan_to AS TIMESTAMP))
      AND TRUE
) AS scanned

),
exclusions AS (
    SELECT user_id, t FROM tagged WHERE is_exclusion
),
excluded_attempts AS (
    SELECT DISTINCT b.user_id, b.cohort
    FROM funnel_best AS b
    JOIN exclusions AS x
      ON x.user_id = b.user_id AND x.t > b.entry_t AND x.t < b.taus[b.level]
)
SELECT
    b.user_id,
    b.cohort,
    b.level,
    b.by_value,
    b.taus,
    e.user_id IS NOT NULL AS excluded,
    row_number() OVER (PARTITION BY b.user_id ORDER BY b.sort_key) = 1 AS counted
FROM funnel_best AS b
LEFT JOIN excluded_attempts AS e
  ON e.user_id = b.user_id AND e.cohort IS NOT DISTINCT FROM b.cohort;

-- [7] funnel_steps (queries/funnel_steps.sql)
--   $bin0 = 43200.0
--   $bin1 = 43200.0
--   $bin10 = 1800.0
--   $bin11 = 1800.0
--   $bin12 = 600.0
--   $bin13 = 600.0
--   $bin14 = 300.0
--   $bin15 = 300.0
--   $bin16 = 120.0
--   $bin17 = 120.0
--   $bin18 = 60.0
--   $bin19 = 60.0
--   $bin2 = 21600.0
--   $bin20 = 30.0
--   $bin21 = 30.0
--   $bin22 = 10.0
--   $bin23 = 10.0
--   $bin24 = 5.0
--   $bin25 = 5.0
--   $bin26 = 1.0
--   $bin27 = 1.0
--   $bin28 = 0.0
--   $bin29 = 0.0
--   $bin3 = 21600.0
--   $bin4 = 10800.0
--   $bin5 = 10800.0
--   $bin6 = 7200.0
--   $bin7 = 7200.0
--   $bin8 = 3600.0
--   $bin9 = 3600.0
--   $by_limit = 10
--   $has_by = TRUE
--   $has_trends = FALSE
--   $min_group_size = 1
--   $n_steps = 3
-- Funnel: users per segment and step, and the time from the previous step, from funnel_users.
--
-- Segments (scope, value, cohort):
--   'total'     every user, by their counted attempt;
--   'by'        per --by value of the counted attempt's entry, for the $by_limit values with most entrants
--               (ties: smaller value first; $by_limit = 0 keeps every value);
--   'by_other'  the remaining values pooled;
--   'by_suppressed' the values with fewer than $min_group_size entrants pooled (small-cell suppression,
--               docs/privacy.md): never shown on their own, whatever their rank;
--   'trend'     per entry cohort (--trends), each user by their best attempt entering in that period;
--   'excluded'  the users left out of 'total' by --exclude (their counted attempt's steps).
-- Excluded users are left out of every other segment. value_rank orders the 'by' values; groups counts the
-- --by values a segment pools (distinct value ranks; 1 for a 'by' value, 0 outside the breakdown). Per segment and step k: users who reached step k on their counted attempt,
-- and for k > 1 the seconds from step k-1 to step k on that attempt: median and p90 (linear interpolation
-- between order statistics), mean. The grouping sets add one row per histogram bin (bin_from_s, the lower
-- edge of the bin holding the seconds, from the bin_lower fragment; bin rows have is_bin = true).
-- Parameters: $n_steps, $has_by, $by_limit, $min_group_size, $has_trends.
WITH
entrants AS (
    SELECT * FROM funnel_users WHERE NOT excluded
),
value_ranks AS (
    SELECT
        by_value,
        count(*) AS entrants,
        row_number() OVER (ORDER BY count(*) DESC, by_value NULLS LAST) AS value_rank
    FROM entrants
    WHERE counted AND $has_by
    GROUP BY by_value
),
segments AS (
    SELECT
        'total' AS scope, CAST(NULL AS VARCHAR) AS value, CAST(NULL AS BIGINT) AS value_rank,
        CAST(NULL AS BIGINT) AS member_rank, CAST(NULL AS TIMESTAMP) AS cohort, level, taus
    FROM entrants
    WHERE counted
    UNION ALL
    SELECT 'excluded', NULL, NULL, NULL, NULL, level, taus
    FROM funnel_users
    WHERE counted AND excluded
    UNION ALL
    SELECT
        CASE WHEN r.entrants < $min_group_size THEN 'by_suppressed'
             WHEN $by_limit = 0 OR r.value_rank <= $by_limit THEN 'by' ELSE 'by_other' END,
        CASE WHEN r.entrants >= $min_group_size AND ($by_limit = 0 OR r.value_rank <= $by_limit)
             THEN CAST(e.by_value AS VARCHAR) END,
        CASE WHEN r.entrants >= $min_group_size AND ($by_limit = 0 OR r.value_rank <= $by_limit)
             THEN r.value_rank END,
        r.value_rank,
        NULL,
        e.level,
        e.taus
    FROM entrants AS e
    JOIN value_ranks AS r ON e.by_value IS NOT DISTINCT FROM r.by_value
    WHERE e.counted
    UNION ALL
    SELECT 'trend', NULL, NULL, NULL, cohort, level, taus
    FROM entrants
    WHERE $has_trends
),
reached AS (
    SELECT
        s.scope,
        s.value,
        s.value_rank,
        s.member_rank,
        s.cohort,
        k.step,
        CASE WHEN k.step > 1 THEN (s.taus[k.step] - s.taus[k.step - 1]) / 1000000.0 END AS seconds,
        CASE WHEN k.step > 1 THEN s.taus[k.step] - s.taus[k.step - 1] END AS micros
    FROM segments AS s
    JOIN range(1, $n_steps + 1) AS k(step) ON k.step <= s.level
),
binned AS (
    SELECT *, CASE WHEN seconds >= $bin0 THEN $bin1 WHEN seconds >= $bin2 THEN $bin3 WHEN seconds >= $bin4 THEN $bin5 WHEN seconds >= $bin6 THEN $bin7 WHEN seconds >= $bin8 THEN $bin9 WHEN seconds >= $bin10 THEN $bin11 WHEN seconds >= $bin12 THEN $bin13 WHEN seconds >= $bin14 THEN $bin15 WHEN seconds >= $bin16 THEN $bin17 WHEN seconds >= $bin18 THEN $bin19 WHEN seconds >= $bin20 THEN $bin21 WHEN seconds >= $bin22 THEN $bin23 WHEN seconds >= $bin24 THEN $bin25 WHEN seconds >= $bin26 THEN $bin27 WHEN seconds >= $bin28 THEN $bin29 END AS bin_from_s
    FROM reached
)
SELECT
    scope,
    value,
    value_rank,
    cohort,
    step,
    bin_from_s,
    GROUPING(bin_from_s) = 0 AS is_bin,
    count(*) AS users,
    count(DISTINCT member_rank) AS groups,
    quantile_cont(seconds, 0.5) AS median_s,
    -- The mean from the exact integer sum of microseconds: a float sum would depend on thread scheduling.
    avg(micros) / 1000000.0 AS mean_s,
    quantile_cont(seconds, 0.9) AS p90_s
FROM binned
GROUP BY GROUPING SETS (
    (scope, value, value_rank, cohort, step),
    (scope, value, value_rank, cohort, step, bin_from_s)
)
ORDER BY scope, value NULLS LAST, cohort, step, bin_from_s;
