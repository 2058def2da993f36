-- Per-variant (and per-segment) sums of per-user experiment metrics, in one pass over the events.
-- Reads ab_assigned (users with exactly one variant) and the events view.
-- $time_from / $time_to: bounds of the event times any user's windows reach ($time_to NULL = no bound);
-- they let the scan skip data outside the experiment.
-- Fragments (built by abtest/metrics.py from quoted identifiers and bound $parameters):
--   user_values:  per-user aggregates c<i>_post (events at/after assigned_at, before post_end) and
--                 c<i>_pre (CUPED: events in [pre_start, assigned_at)), optionally event_segment;
--   event_filter: the metrics' event predicates OR-ed (keeps the join small);
--   user_columns: the per-user values with 0 for users without events;
--   segment, segment_select, group_by: the optional --by breakdown (GROUPING SETS gives the overall rows);
--   cap_values:   aggregates only (one row): the count of analysed users and, with --cap q, per capped mean metric m<j> the pooled q-quantile of its per-user value
--                 (and of its CUPED covariate) over all analysed users, as GrowthBook's percentile capping;
--   sums:         n is count(*); per metric m<j>: sum, sum of squares, ratio denominator sums and the
--                 numerator x denominator cross-product, or the CUPED covariate sums and cross-product
--                 (capped values least(value, cap) where capping applies).
-- Sums of doubles use fsum (compensated summation) so that results do not depend on thread scheduling;
-- on engines without it, sum gives the same numbers up to the last bits.
WITH per_user AS (
    SELECT
        u.user_id,
        {{ user_values }}
    FROM ab_assigned AS u
    JOIN events AS e
      ON e.user_id = u.join_key
     AND e.event_time >= u.pre_start
     AND (u.post_end IS NULL OR e.event_time < u.post_end)
    WHERE u.variants = 1
      AND e.event_time >= $time_from
      AND ($time_to IS NULL OR e.event_time < $time_to)
      AND {{ event_filter }}
    GROUP BY u.user_id
),
users AS (
    SELECT
        u.variant,
        {{ segment }} AS segment,
        {{ user_columns }}
    FROM ab_assigned AS u
    LEFT JOIN per_user AS p ON p.user_id = u.user_id
    WHERE u.variants = 1
),
caps AS (
    SELECT {{ cap_values }}
    FROM users
)
SELECT
    variant,
    {{ segment_select }},
    count(*) AS users,
    {{ sums }}
FROM users
CROSS JOIN caps
GROUP BY {{ group_by }}
ORDER BY overall DESC, segment, variant;
