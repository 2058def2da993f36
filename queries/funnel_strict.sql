-- Funnel, --order strict: one row per attempt (a step-1 event in the date range) with the step it reaches
-- (level) and the times of its steps 2..n (tau_2 .. tau_n, NULL beyond the level). Reads `tagged`
-- (funnel_events.sql).
--
-- Strict order: the user's events that follow the entry, taken one by one in canonical order
-- (t, step_rank, mask, hold_value, by_value) over ALL events of the user (funnel steps or not), must play
-- steps 2, 3, ... in turn; the first event that cannot (another event, a step out of turn, a different or
-- missing held value, or a time beyond $window_us after the entry) ends the attempt. One sorted pass over
-- the user's events: the following_events fragment reads the n-1 next events with lead() (columns mask_j,
-- t_j, hold_j), the level fragment counts how many of them play their step in turn, reached_taus gives
-- t_1 .. t_(n-1) as tau_2 .. tau_n up to the level. canonical_order: t, step_rank, mask, then hold_value and
-- by_value when given (constant keys are left out).
-- Parameters: $has_hold, $window_us.
WITH
stream AS (
    SELECT
        user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range,
        {{ following_events }}
    FROM tagged
    WINDOW next_events AS (
        PARTITION BY user_id
        ORDER BY {{ canonical_order }}
    )
),
in_range_attempts AS (
    SELECT *, {{ level }} AS level
    FROM stream
    WHERE in_range AND mask & 1 <> 0
)
SELECT user_id, cohort, t, step_rank, mask, hold_value, by_value, level, {{ reached_taus }}
FROM in_range_attempts
