{% import "_macros.sql" as m %}
{% set event_predicate = m.selector(event) %}
-- Stickiness: how many users were active on 1, 2, 3, ... distinct days of each period and month.
--
-- A user is active on a day (local calendar day) when they did the event that day. One row per
-- (grain, period, active_days) with the number of users; grain 'period' uses the requested period
-- (week or month), grain 'month' always months (for DAU/MAU: the sum over users of their active days
-- in a month is the sum of that month's DAU).
--
-- Parameters: the values bound by the predicate.
-- Template data: event (the event selector, for the selector macro). Fragments: day_start (local_time
-- truncated to its day), period_start and month_start (the day truncated to its period / month).
WITH active_days AS (
    SELECT DISTINCT
        user_id,
        {{ day_start }} AS day
    FROM events
    WHERE {{ event_predicate }}
      AND user_id IS NOT NULL
      AND local_time IS NOT NULL
),
day_periods AS (
    SELECT
        user_id,
        {{ period_start }} AS period,
        {{ month_start }}  AS month
    FROM active_days
),
user_periods AS (
    -- both grains in one aggregation over the (user, day) rows
    SELECT
        period,
        month,
        GROUPING(period) AS is_month_grain,
        count(*) AS active_days
    FROM day_periods
    GROUP BY GROUPING SETS ((user_id, period), (user_id, month))
)
SELECT
    CASE WHEN is_month_grain = 1 THEN 'month' ELSE 'period' END AS grain,
    CASE WHEN is_month_grain = 1 THEN month ELSE period END AS period,
    active_days,
    count(*) AS users
FROM user_periods
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;
