-- Funnel, --order unordered: one row per attempt with the number of steps it completes within the window
-- (level). Reads `tagged` (funnel_events.sql).
--
-- An attempt starts at any funnel event (one matching some step) in the date range. Its window holds the
-- user's funnel events timed from the start to $window_us after it (with --hold: of the same held value).
-- Its level is the largest number of steps that can be given distinct events of the window, each event
-- playing at most one step it matches: a maximum bipartite matching, computed with Hall's theorem as
-- min over step sets S of (|S'| - |S| + count of window events matching a step of S), S' the connected
-- group of steps S belongs to (steps sharing no event name are independent). The window_counts fragment
-- counts, for every such S, the window's events matching it (columns c_S); the matching fragment takes
-- the minimum. Step times are computed for the counted attempts only (funnel_unordered_times.sql); here
-- tau_2 .. tau_n are NULL (the no_taus fragment). user_partition: user_id, and hold_value with --hold.
-- Parameters: $has_hold, $window_us.
WITH
counted AS (
    SELECT
        user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range,
        {{ window_counts }}
    FROM tagged
    WHERE mask <> 0
    WINDOW ahead AS (
        PARTITION BY {{ user_partition }}
        ORDER BY t
        RANGE BETWEEN CURRENT ROW AND $window_us FOLLOWING
    )
)
SELECT
    user_id, cohort, t, step_rank, mask, hold_value, by_value,
    -- an entry lacking the held value cannot be joined by other events
    CASE WHEN $has_hold AND hold_value IS NULL THEN 1 ELSE CAST({{ matching }} AS INTEGER) END AS level,
    {{ no_taus }}
FROM counted
WHERE in_range
