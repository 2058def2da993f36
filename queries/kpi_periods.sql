-- KPI ingredients per calendar period over grouping sets of (day | week | month [, breakdown columns]),
-- plus the commerce ingredients per (period, mover column) for the digest's GMV movers.
--
-- One pass over the events, and no DISTINCT aggregate over anything large (DuckDB runs the DISTINCT
-- aggregates of grouping sets as one hash table per set and aggregate, each fed every input row):
--   user_days     per (user, local day, breakdown values, order, mover values) the ingredients that add
--                 events up (kpi.EVENT_SUMS and kpi.COMMERCE_SUMS) and the purchase / refund events
--                 carrying the row's order id; order and mover values are NULL except on purchase and
--                 refund events, so there is about one row per user and day;
--   sums          the event ingredients of every grouping set (small tables: one row per set and keys);
--   users         viewers and active users per grouping set as plain counts of one row per (user, period,
--                 breakdown values), with the user's views (a NULL user_id is no user);
--   commerce      purchasers, orders, GMV, refunded orders and refunded revenue per grouping set and per
--                 (period, mover column), and the distinct users of a mover value (its active_users), over
--                 the user_days rows with purchase or refund events only: a small share of the rows.
-- One row per (grouping set, keys). grouping_id is the GROUPING() bit mask over (day, week, month,
-- breakdown columns, mover columns), bit 1 = not grouped, the first column most significant. Mover rows
-- carry the commerce ingredients and active_users only (NULL elsewhere).
-- Template data (kpi.py): grain = the breakdown columns with their aliases g0, g1, ...; movers = the mover
-- columns with their aliases m0, m1, ... (both may be empty); sets = the breakdown grouping sets of
-- aliases, e.g. [day], [week, g0]; mover_sets = the mover sets, e.g. [week, m0]; day_expr = the local day
-- of an event, week_expr / month_expr = the period start of a `day` (periods.py); event_sums /
-- commerce_sums = the ingredients of kpi.py (name, aggregate). mover_scale = 2 to the number of mover
-- columns, mover_mask = mover_scale - 1 (the low grouping_id bits of a set without a mover column).
{% import "_macros.sql" as m %}
{% set grain_keys %}{% for _, alias in grain %}, {{ alias }}{% endfor %}{% endset %}
{% set mover_keys %}{% for _, alias in movers %}, {{ alias }}{% endfor %}{% endset %}
{% set mover_scale = 2 ** (movers | length) %}
{% set mover_mask = mover_scale - 1 %}
{% set joined = ["day", "week", "month"] + grain | map(attribute=1) | list %}
{% macro grouping_sets(sets, extra=[]) %}{% for s in sets %}({{ (s + extra) | join(", ") }}){% if not loop.last %}, {% endif %}{% endfor %}{% endmacro %}
WITH
user_days AS (
    SELECT
        user_id, day {{ grain_keys }}, order_key {{ mover_keys }}
        {{ m.sums(event_sums) }}
        {{ m.sums(commerce_sums) }},
        count(purchase_order_id) FILTER (WHERE commerce_event IS NOT NULL) AS purchase_orders,
        count(refund_order_id) FILTER (WHERE commerce_event IS NOT NULL)   AS refund_orders
    FROM (
        SELECT
            kpi_events.*,
            {{ day_expr }}                                 AS day,
            coalesce(purchase_order_id, refund_order_id)   AS order_key
            {% for column, alias in grain %}, {{ column | ident }} AS {{ alias }}{% endfor %}

            {% for column, alias in movers %}, CASE WHEN commerce_event IS NOT NULL THEN {{ column | ident }} END AS {{ alias }}{% endfor %}

        FROM kpi_events
    ) AS keyed
    GROUP BY user_id, day {{ grain_keys }}, order_key {{ mover_keys }}
),
dated AS (
    SELECT user_days.*, {{ week_expr }} AS week, {{ month_expr }} AS month
    FROM user_days
),
sums AS (
    SELECT
        day, week, month {{ grain_keys }},
        GROUPING(day, week, month {{ grain_keys }}) * {{ mover_scale }} + {{ mover_mask }} AS grouping_id
        {{ m.sums(event_sums, "sum") }}
    FROM dated
    GROUP BY GROUPING SETS ({{ grouping_sets(sets) }})
),
users AS (
    SELECT
        grouping_id, day, week, month {{ grain_keys }},
        count(CASE WHEN views > 0 THEN user_id END) AS viewers,
        count(user_id)                              AS active_users
    FROM (
        SELECT
            day, week, month {{ grain_keys }},
            GROUPING(day, week, month {{ grain_keys }}) * {{ mover_scale }} + {{ mover_mask }} AS grouping_id,
            user_id,
            max(views) AS views
        FROM dated
        GROUP BY GROUPING SETS ({{ grouping_sets(sets, ["user_id"]) }})
    ) AS user_periods
    GROUP BY grouping_id, day, week, month {{ grain_keys }}
),
commerce AS (
    SELECT
        day, week, month {{ grain_keys }} {{ mover_keys }},
        GROUPING(day, week, month {{ grain_keys }} {{ mover_keys }}) AS grouping_id,
        count(DISTINCT CASE WHEN purchase_orders + unidentified_purchases > 0 THEN user_id END) AS purchasers,
        count(DISTINCT CASE WHEN purchase_orders > 0 THEN order_key END) + sum(unidentified_purchases) AS orders,
        coalesce(sum(gmv), 0)                                                                  AS gmv,
        count(DISTINCT CASE WHEN refund_orders > 0 THEN order_key END) + sum(unidentified_refunds) AS refunded_orders,
        coalesce(sum(refund_revenue), 0)                                                       AS refund_revenue,
        count(DISTINCT user_id)                                                                AS users
    FROM dated
    WHERE purchase_orders + unidentified_purchases + refund_orders + unidentified_refunds > 0
    GROUP BY GROUPING SETS ({{ grouping_sets(sets + mover_sets) }})
)
SELECT
    s.day, s.week, s.month {% for _, alias in grain %}, s.{{ alias }}{% endfor %} {% for _, alias in movers %}, NULL AS {{ alias }}{% endfor %}, s.grouping_id
    {{ m.sums(event_sums, "column", "s.") }},
    u.viewers,
    u.active_users,
    coalesce(c.purchasers, 0)      AS purchasers,
    coalesce(c.orders, 0)          AS orders,
    coalesce(c.gmv, 0)             AS gmv,
    coalesce(c.refunded_orders, 0) AS refunded_orders,
    coalesce(c.refund_revenue, 0)  AS refund_revenue
FROM sums AS s
JOIN users AS u ON u.grouping_id = s.grouping_id AND {{ m.same_keys("u", "s", joined) }}
LEFT JOIN commerce AS c ON c.grouping_id = s.grouping_id AND {{ m.same_keys("c", "s", joined) }}
UNION ALL
SELECT
    day, week, month {{ grain_keys }} {{ mover_keys }}, grouping_id
    {{ m.sums(event_sums, "null") }},
    NULL  AS viewers,
    users AS active_users,
    purchasers, orders, gmv, refunded_orders, refund_revenue
FROM commerce
WHERE grouping_id % {{ mover_scale }} <> {{ mover_mask }};
