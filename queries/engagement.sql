-- Engagement and commerce KPI ingredients per group of the breakdown columns (kpi_events_view.sql decides
-- what each marker counts; kpi.py derives the rates from these sums), and active_users: the distinct users
-- with any event of the group (the size that --min-group-size tests).
--
-- Three passes over kpi_events, each reading only the columns it needs, instead of one pass carrying
-- DISTINCT aggregates (which DuckDB runs as a fan-out of the whole event stream to one hash table each):
--   counts     the ingredients that add events up, per group (kpi.EVENT_SUMS and kpi.COMMERCE_SUMS, the
--              aggregates kpi_periods.sql adds up per user and day);
--   users      one row per (group, user) -- the one big hash table of the query -- then counted per group:
--              viewers = pairs with a view; active_users = all pairs, or NULL when nothing is suppressed
--              (then only the pairs of view events are formed, and `pairs` counts those);
--   commerce   distinct purchasers, orders and refunded orders, over purchase and refund events only.
-- The passes are joined on the group keys (missing values included: IS NOT DISTINCT FROM).
-- Fragments (built by engagement.py from quoted identifiers): group_keys = the breakdown columns, e.g.
-- "creator_id", "platform"; event_sums / commerce_sums = ", <aggregate> AS <ingredient>, ..." (kpi.py);
-- counts_keys = the group keys prefixed with "c." (select list of the result);
-- users_join, commerce_join = the join conditions of counts (c) with users (u) and commerce (m);
-- pair_filter = the events that form (group, user) pairs: viewer_id IS NOT NULL, or user_id IS NOT NULL
-- when active users are counted; active_users = coalesce(u.pairs, 0), or a NULL constant.
WITH
counts AS (
    SELECT
        {{ group_keys }}
        {{ event_sums }}
        {{ commerce_sums }}
    FROM kpi_events
    GROUP BY {{ group_keys }}
),
users AS (
    SELECT {{ group_keys }}, count(viewer_id) AS viewers, count(*) AS pairs
    FROM (
        -- viewer_id is the user on view events: non-null when the user viewed within the group
        SELECT {{ group_keys }}, max(viewer_id) AS viewer_id
        FROM kpi_events
        WHERE {{ pair_filter }}
        GROUP BY {{ group_keys }}, user_id
    ) AS pairs
    GROUP BY {{ group_keys }}
),
commerce AS (
    SELECT
        {{ group_keys }},
        count(DISTINCT purchaser_id)      AS purchasers,
        count(DISTINCT purchase_order_id) AS purchase_orders,
        count(DISTINCT refund_order_id)   AS refund_orders
    FROM kpi_events
    WHERE commerce_event IS NOT NULL
    GROUP BY {{ group_keys }}
)
SELECT
    {{ counts_keys }},
    c.views,
    coalesce(u.viewers, 0)                                    AS viewers,
    c.likes,
    c.comments,
    c.shares,
    c.completes,
    c.clicks,
    c.watch_time_s_sum,
    c.watch_time_s_n,
    coalesce(m.purchasers, 0)                                 AS purchasers,
    coalesce(m.purchase_orders, 0) + c.unidentified_purchases AS orders,
    coalesce(c.gmv, 0)                                        AS gmv,
    coalesce(m.refund_orders, 0) + c.unidentified_refunds     AS refunded_orders,
    coalesce(c.refund_revenue, 0)                             AS refund_revenue,
    {{ active_users }}                                        AS active_users
FROM counts AS c
LEFT JOIN users AS u ON {{ users_join }}
LEFT JOIN commerce AS m ON {{ commerce_join }};
