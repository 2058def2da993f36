{% import "_macros.sql" as m %}
{% set touch_predicate = m.selector(touch, "t") %}
-- Attribution: credited orders and GMV per group (temp tables attribution_credits and
-- attribution_conversions), the $top groups by attributed GMV (part 'ranked'), one 'other' row (rank
-- NULL) summing the rest, and one 'suppressed' row summing the groups credited by fewer than
-- $min_group_size distinct users (small-cell suppression, docs/privacy.md: never ranked or listed);
-- $top NULL keeps every group that is not suppressed.
-- conversions: conversion events giving the group a non-zero credit; users: their distinct users;
-- attributed_orders = sum(credit * order_share); attributed_gmv = sum(credit * revenue);
-- touches: events in the date range matching the touch selector (the selector macro over
-- alias t) whose --by value (fragment touch_group) is the group's, the denominator of GPM.
-- Sums of doubles use fsum (compensated summation) so that results do not depend on thread scheduling;
-- on engines without it, sum gives the same numbers up to the last bits.
WITH credited AS (
    SELECT
        cr.group_value,
        count(*) AS conversions,
        count(DISTINCT c.user_id) AS users,
        fsum(cr.credit * c.order_share) AS attributed_orders,
        fsum(cr.credit * c.revenue) AS attributed_gmv
    FROM attribution_credits AS cr
    JOIN attribution_conversions AS c ON c.conversion_id = cr.conversion_id
    GROUP BY cr.group_value
),
touches AS (
    SELECT CAST(t.{{ by | ident }} AS VARCHAR) AS group_value, count(*) AS touches
    FROM events AS t
    WHERE {{ touch_predicate }}
    GROUP BY 1
),
ranked AS (
    SELECT
        credited.*,
        coalesce(touches.touches, 0) AS touches,
        row_number() OVER (
            ORDER BY credited.users < $min_group_size, credited.attributed_gmv DESC,
                     credited.attributed_orders DESC, credited.group_value NULLS LAST
        ) AS group_rank
    FROM credited
    LEFT JOIN touches ON touches.group_value IS NOT DISTINCT FROM credited.group_value
),
parted AS (
    SELECT
        ranked.*,
        CASE WHEN users < $min_group_size THEN 'suppressed'
             WHEN $top IS NULL OR group_rank <= $top THEN 'ranked'
             ELSE 'other' END AS part
    FROM ranked
)
SELECT
    part,
    CASE WHEN part = 'ranked' THEN group_rank END AS group_rank,
    min(CASE WHEN part = 'ranked' THEN group_value END) AS group_value,
    count(*) AS groups,
    CAST(sum(conversions) AS BIGINT) AS conversions,
    fsum(attributed_orders) AS attributed_orders,
    fsum(attributed_gmv) AS attributed_gmv,
    CAST(sum(touches) AS BIGINT) AS touches
FROM parted
GROUP BY 1, 2
ORDER BY 2 NULLS LAST, 1;
