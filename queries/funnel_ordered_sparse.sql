{% import "_macros.sql" as m %}
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
        {{ later_events }}
    ) AS later_events
),
{{ m.ordered_passes(n, 2, user_partition, canonical_order) }}
step_two AS (
    -- every event able to play step 2 with its chain, and the time of the previous one of its partition
    SELECT
        user_id,
        hold_value,
        t AS tau_2{{ group_taus }},
        lag(t) OVER (PARTITION BY {{ user_partition }} ORDER BY t) AS previous_t,
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
        e.user_id, e.cohort, e.t, e.entry, g.hold_value AS group_hold, g.tau_2{{ group_taus }}
    FROM (
        SELECT
            user_id, cohort, t, hold_value,
            -- the entry's place in canonical order (t, then held and by values, missing last) and what we keep
            struct_pack(t := t, hold_missing := hold_value IS NULL, hold_value := hold_value,
                        by_missing := by_value IS NULL, by_value := by_value) AS entry,
            t // $window_us AS bucket
        FROM (
            {{ entry_events }}
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
        tau_2{{ group_taus }},
        max(t) AS last_entry,
        min(entry) AS first_entry{{ first_reaching }}
    FROM linked
    GROUP BY user_id, cohort, group_hold, tau_2{{ group_taus }}
),
sparse_attempts AS (
    SELECT *, {{ counted_entry }} AS entry
    FROM (SELECT *, CASE WHEN tau_2 IS NULL THEN 1 ELSE {{ level }} END AS level FROM groups) AS leveled
)
SELECT
    user_id, cohort, entry.t AS t, 1 AS step_rank, 1 AS mask, entry.hold_value AS hold_value,
    entry.by_value AS by_value, level, {{ reached_taus }}
FROM sparse_attempts
