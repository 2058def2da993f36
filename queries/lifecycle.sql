{% import "_macros.sql" as m %}
{% set event_predicate = m.selector(event) %}
-- Lifecycle: users per period and status, from the periods in which each user did the event.
--
-- For a period p and a user who did the event in p:
--   new           p is the user's first such period in the export (history before --from counts)
--   returning     the user also did it in the period before p
--   resurrecting  not in the period before p, but in some earlier period
-- and for a user who did it in the period before p but not in p:
--   dormant       (counted positive here; the report negates it)
--
-- Reads the whole export up to --to (events_all), so that users active before --from are not "new";
-- the caller keeps only the periods inside the range. Everything after the first step works on one
-- row per (user, active period).
--
-- Parameters: $to_exclusive (local TIMESTAMP, NULL = open end), $step (one period as interval text:
-- '1 day' | '1 week' | '1 month') and the values bound by the predicate.
-- Template data: event (the event selector, for the selector macro). Fragment: period_start (local_time
-- truncated to its day/week/month).
WITH active AS (
    SELECT DISTINCT
        user_id,
        {{ period_start }} AS period
    FROM events_all
    WHERE {{ event_predicate }}
      AND user_id IS NOT NULL
      AND local_time IS NOT NULL
      AND ($to_exclusive IS NULL OR local_time < $to_exclusive)
),
sequenced AS (
    SELECT
        period,
        lag(period)  OVER (PARTITION BY user_id ORDER BY period) AS previous_active,
        lead(period) OVER (PARTITION BY user_id ORDER BY period) AS next_active
    FROM active
),
statuses AS (
    SELECT
        period,
        CASE
            WHEN previous_active IS NULL THEN 'new'
            WHEN previous_active + CAST($step AS INTERVAL) = period THEN 'returning'
            ELSE 'resurrecting'
        END AS status
    FROM sequenced
    UNION ALL
    -- the period after an active period is a dormant one unless the user is active again in it
    SELECT
        period + CAST($step AS INTERVAL) AS period,
        'dormant' AS status
    FROM sequenced
    WHERE next_active IS NULL OR next_active <> period + CAST($step AS INTERVAL)
)
SELECT period, status, count(*) AS users
FROM statuses
GROUP BY period, status
ORDER BY period, status;
