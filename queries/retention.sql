{% import "_macros.sql" as m %}
{% set start_predicate = m.selector(start) %}
{% set return_predicate = m.selector(return_event) %}
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
        {% if by %}CAST({{ by | ident }} AS VARCHAR){% else %}CAST(NULL AS VARCHAR){% endif %}          AS by_value,
        {{ start_predicate }}   AS is_start,
        {{ return_predicate }}  AS is_return
    FROM events
    WHERE ({{ start_predicate }} OR {{ return_predicate }})
      AND user_id IS NOT NULL
      AND event_time IS NOT NULL
),
user_periods AS (
    SELECT
        user_id,
        CASE WHEN $recurring OR is_return THEN {{ period_start }} END  AS period,
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
    SELECT user_id, {{ cohort_start }} AS cohort, by_value, first_start
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
