{% import "_macros.sql" as m %}
-- Funnel, --order ordered: one row per attempt (a step-1 event in the date range) with the step it reaches
-- within the window (level) and the times of its steps 2..n (tau_2 .. tau_n, NULL beyond the level).
-- Reads `tagged` (funnel_events.sql).
--
-- Definitions (docs/funnel.md): a user's events are taken in the canonical order
-- (t, step_rank, mask, hold_value, by_value); a chain is a sequence of distinct events in that order playing
-- steps 1, 2, ..., k. The greedy chain of an attempt takes for each step the first event after the previous
-- step's event that can play it; it completes every step as early as any chain can, so the attempt reaches
-- step k exactly when the greedy chain's step-k event lies within the window (at most $window_us after it).
--
-- The greedy chains are built backwards, one pass per step (funnel_ordered_pass.sql for
-- k = n-1 .. 1): pass k gives every event able to play step k the times of the chain that follows it. Each
-- pass sorts only the events of two steps; no pass joins events to events. A chain that cannot be
-- completed has the time $unreachable (larger than any event time) from there on.
-- With --hold ($has_hold) chains stay within one value of the held property (the partition), and an event
-- lacking the value can only enter.
-- Parameters: $has_hold, $last_bit (mask bit of the last step, in pass_last), $window_us, $unreachable.
-- The passes: the macro ordered_passes (_macros.sql: funnel_ordered_last.sql, then funnel_ordered_pass.sql
-- for k = n-1 .. 1). Fragments: level (the
-- last step whose time is within the window), reached_taus (tau_2 .. tau_n, NULL beyond the level).
WITH
roles AS NOT MATERIALIZED (
    SELECT
        user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range,
        CASE WHEN $has_hold AND hold_value IS NULL THEN mask & 1 ELSE mask END AS role_mask
    FROM tagged
    WHERE mask <> 0
),
{{ m.ordered_passes(n, 1, user_partition, canonical_order) }}
in_range_attempts AS (
    SELECT *, {{ level }} AS level
    FROM pass_1
    WHERE in_range
)
SELECT user_id, cohort, t, step_rank, mask, hold_value, by_value, level, {{ reached_taus }}
FROM in_range_attempts
