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
-- Cost: the events are read once per event set and aggregated straight away (first-time mode groups
-- by user only, as the grouping key of recurring mode is constant NULL there); everything after that
-- works on one row per entry or per (user, return period), never on events.
--
-- Parameters: $recurring (BOOLEAN) and the values bound by the predicates.
-- Fragments (built by retention.py): start_predicate and return_predicate (event selectors),
-- period_start (local_time truncated to its day/week/month), cohort_start (the same truncation of
-- first_local), by_value (the breakdown property as VARCHAR, or a NULL constant without a breakdown).
WITH start_groups AS (
    -- the first start event per user (first-time) or per user and period (recurring), and per
    -- breakdown value; first_local is its local time (equal event times have equal local times)
    SELECT
        user_id,
        CASE WHEN $recurring THEN {{ period_start }} END  AS entry_period,
        {{ by_value }}                                   AS by_value,
        min(event_time)                                  AS first_start,
        arg_min(local_time, event_time)                  AS first_local
    FROM events
    WHERE {{ start_predicate }}
      AND user_id IS NOT NULL
      AND event_time IS NOT NULL
    GROUP BY 1, 2, 3
),
ranked_starts AS (
    -- with a breakdown an entry has one group per value: keep the earliest, ties going to the
    -- smallest value so that the result is reproducible
    SELECT
        user_id,
        first_local,
        by_value,
        first_start,
        row_number() OVER (
            PARTITION BY user_id, entry_period
            ORDER BY first_start, by_value NULLS LAST
        ) AS start_rank
    FROM start_groups
),
entries AS (
    SELECT user_id, {{ cohort_start }} AS cohort, by_value, first_start
    FROM ranked_starts
    WHERE start_rank = 1
),
return_periods AS (
    -- each user's last return event per period
    SELECT
        user_id,
        {{ period_start }}  AS period,
        max(event_time)     AS last_return
    FROM events
    WHERE {{ return_predicate }}
      AND user_id IS NOT NULL
      AND event_time IS NOT NULL
    GROUP BY 1, 2
),
returns AS (
    SELECT
        e.by_value,
        e.cohort,
        r.period AS return_period,
        max(r.period) OVER (PARTITION BY e.user_id, e.cohort) AS last_return_period
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
    count(CASE WHEN return_period = last_return_period THEN 1 END) AS last_entries,
    max(value_users.value_users) AS value_users
FROM returns
JOIN value_users ON value_users.by_value IS NOT DISTINCT FROM returns.by_value
GROUP BY returns.by_value, cohort, return_period
ORDER BY returns.by_value NULLS LAST, cohort, return_period NULLS FIRST;
