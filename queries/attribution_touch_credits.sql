{% import "_macros.sql" as m %}
{% set touch_predicate = m.selector(touch, "t") %}
-- Attribution, stage 2 (touch models): each conversion's credit per group, into temp table
-- attribution_credits (conversion_id, group_value, credit).
-- Touches: events of the same user from events_all (not cut by the date range) matching the touch
-- selector (the selector macro over alias t) with
--   conversion time - $window_seconds <= touch time <= conversion time (both edges inclusive),
--   and, with --same-product, the conversion's product_id (non-null and equal: fragment product_match,
--   TRUE without the option so that product_id is not read).
-- Weight of touch i of a conversion, by $model:
--   last        1 for the touches at the latest touch time, else 0
--   first       1 for the touches at the earliest touch time, else 0
--   linear      1
--   time_decay  2^(-(conversion time - touch time) / $half_life_seconds), computed relative to the
--               latest touch (the same after normalising, and it cannot underflow to all zeros)
-- credit(group) = sum of the weights of the group's touches / sum of all the conversion's weights,
-- so a conversion's credits sum to 1; group_value is the touch's --by value (fragment touch_group)
-- as text, NULL when the touch has none. Conversions without touches get no rows.
-- Sums of doubles use fsum (compensated summation) so that results do not depend on thread scheduling;
-- on engines without it, sum gives the same numbers up to the last bits.
CREATE OR REPLACE TEMP TABLE attribution_credits AS
WITH pairs AS (
    SELECT
        c.conversion_id,
        CAST(t.{{ by | ident }} AS VARCHAR) AS group_value,
        t.event_time AS touch_time
    FROM attribution_conversions AS c
    JOIN events_all AS t
      ON t.user_id = c.user_id
    WHERE {{ touch_predicate }}
      AND t.event_time <= c.event_time
      AND t.event_time >= c.event_time - INTERVAL ($window_seconds) SECOND
      AND {{ "t.product_id = c.product_id" if same_product else "TRUE" }}
),
weighted AS (
    SELECT
        conversion_id,
        group_value,
        CASE $model
            WHEN 'last' THEN CASE WHEN touch_time = max(touch_time) OVER conversion THEN 1.0 ELSE 0.0 END
            WHEN 'first' THEN CASE WHEN touch_time = min(touch_time) OVER conversion THEN 1.0 ELSE 0.0 END
            WHEN 'linear' THEN 1.0
            WHEN 'time_decay' THEN power(
                2.0,
                -date_diff('microsecond', touch_time, max(touch_time) OVER conversion)
                    / ($half_life_seconds * 1000000.0))
        END AS weight
    FROM pairs
    WINDOW conversion AS (PARTITION BY conversion_id)
),
by_group AS (
    SELECT conversion_id, group_value, fsum(weight) AS weight
    FROM weighted
    WHERE weight > 0
    GROUP BY conversion_id, group_value
)
SELECT
    conversion_id,
    group_value,
    weight / fsum(weight) OVER (PARTITION BY conversion_id) AS credit
FROM by_group;
