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
-- Fragments (built by kpi.py): day_expr = the local day of an event, week_expr / month_expr = the period
-- start of a `day`; grain_select = ", <column> AS g0, ..." (breakdown columns, may be empty), grain_keys =
-- ", g0, ...", grain_keys_s = ", s.g0, ..."; mover_select = ", <column of purchase and refund events> AS
-- m0, ..." (mover columns, may be empty), mover_keys = ", m0, ...", mover_nulls = ", NULL AS m0, ...";
-- grouping_sets = the breakdown grouping sets, e.g. (day), (week, g0); user_sets = the same with user_id;
-- commerce_sets = grouping_sets and the mover sets, e.g. (week, m0); event_sums / commerce_sums =
-- ", <aggregate> AS <ingredient>, ...", event_sums_added = ", sum(<ingredient>) AS <ingredient>, ...",
-- event_sums_s = ", s.<ingredient>, ...", event_sums_null = ", NULL AS <ingredient>, ..." (of
-- kpi.EVENT_SUMS); users_join / commerce_join = the join of sums (s) with users (u) / commerce (c) on
-- grouping_id and the keys; mover_scale = 2 to the number of mover columns, mover_mask = mover_scale - 1
-- (the low grouping_id bits of a set without a mover column).
WITH
user_days AS (
    SELECT
        user_id, day {{ grain_keys }}, order_key {{ mover_keys }}
        {{ event_sums }}
        {{ commerce_sums }},
        count(purchase_order_id) FILTER (WHERE commerce_event IS NOT NULL) AS purchase_orders,
        count(refund_order_id) FILTER (WHERE commerce_event IS NOT NULL)   AS refund_orders
    FROM (
        SELECT
            kpi_events.*,
            {{ day_expr }}                                 AS day,
            coalesce(purchase_order_id, refund_order_id)   AS order_key
            {{ grain_select }}
            {{ mover_select }}
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
        {{ event_sums_added }}
    FROM dated
    GROUP BY GROUPING SETS ({{ grouping_sets }})
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
        GROUP BY GROUPING SETS ({{ user_sets }})
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
    GROUP BY GROUPING SETS ({{ commerce_sets }})
)
SELECT
    s.day, s.week, s.month {{ grain_keys_s }} {{ mover_nulls }}, s.grouping_id
    {{ event_sums_s }},
    u.viewers,
    u.active_users,
    coalesce(c.purchasers, 0)      AS purchasers,
    coalesce(c.orders, 0)          AS orders,
    coalesce(c.gmv, 0)             AS gmv,
    coalesce(c.refunded_orders, 0) AS refunded_orders,
    coalesce(c.refund_revenue, 0)  AS refund_revenue
FROM sums AS s
JOIN users AS u ON {{ users_join }}
LEFT JOIN commerce AS c ON {{ commerce_join }}
UNION ALL
SELECT
    day, week, month {{ grain_keys }} {{ mover_keys }}, grouping_id
    {{ event_sums_null }},
    NULL  AS viewers,
    users AS active_users,
    purchasers, orders, gmv, refunded_orders, refund_revenue
FROM commerce
WHERE grouping_id % {{ mover_scale }} <> {{ mover_mask }};
