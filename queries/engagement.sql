{% import "_macros.sql" as m %}
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
-- Template data: columns (the breakdown columns, quoted by the template); event_sums / commerce_sums (the
-- ingredients of kpi.py, name and aggregate); count_active (active users are counted: (group, user) pairs
-- are formed from every event with a user, not from the view events only).
WITH
counts AS (
    SELECT
        {{ m.columns_of(columns) }}
        {{ m.sums(event_sums) }}
        {{ m.sums(commerce_sums) }}
    FROM kpi_events
    GROUP BY {{ m.columns_of(columns) }}
),
users AS (
    SELECT {{ m.columns_of(columns) }}, count(viewer_id) AS viewers, count(*) AS pairs
    FROM (
        -- viewer_id is the user on view events: non-null when the user viewed within the group
        SELECT {{ m.columns_of(columns) }}, max(viewer_id) AS viewer_id
        FROM kpi_events
        WHERE {{ "user_id" if count_active else "viewer_id" }} IS NOT NULL
        GROUP BY {{ m.columns_of(columns) }}, user_id
    ) AS pairs
    GROUP BY {{ m.columns_of(columns) }}
),
commerce AS (
    SELECT
        {{ m.columns_of(columns) }},
        count(DISTINCT purchaser_id)      AS purchasers,
        count(DISTINCT purchase_order_id) AS purchase_orders,
        count(DISTINCT refund_order_id)   AS refund_orders
    FROM kpi_events
    WHERE commerce_event IS NOT NULL
    GROUP BY {{ m.columns_of(columns) }}
)
SELECT
    {{ m.columns_of(columns, "c.") }},
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
    {{ "coalesce(u.pairs, 0)" if count_active else "CAST(NULL AS BIGINT)" }}                                        AS active_users
FROM counts AS c
LEFT JOIN users AS u ON {{ m.same_keys("c", "u", columns) }}
LEFT JOIN commerce AS m ON {{ m.same_keys("c", "m", columns) }};
