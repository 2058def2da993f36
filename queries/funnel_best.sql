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
    {{ funnel_events }}
),
attempts AS (
    {{ attempts }}
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
            {{ tau_fields }}
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
    {{ tau_list }}[1:-attempt.neg_level] AS taus
FROM best
