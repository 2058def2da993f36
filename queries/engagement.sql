-- Engagement and commerce KPI ingredients per group of the breakdown columns (kpi_events_view.sql decides
-- what each marker counts; kpi.py derives the rates from these sums).
--
-- Three passes over kpi_events, each reading only the columns it needs, instead of one pass carrying four
-- DISTINCT aggregates (which DuckDB runs as a fan-out of the whole event stream to one hash table each):
--   counts     the ingredients that add events up, per group;
--   viewers    distinct viewers per group: (group, viewer) pairs of view events, deduplicated, then counted
--              (the one big hash table of this query);
--   commerce   distinct purchasers, orders and refunded orders, over purchase and refund events only.
-- The passes are joined on the group keys (missing values included: IS NOT DISTINCT FROM).
-- Fragments (built by engagement.py from quoted identifiers): group_keys = the breakdown columns, e.g.
-- "creator_id", "platform"; counts_keys = the same prefixed with "c." (select list of the result);
-- viewers_join, commerce_join = the join conditions of counts (c) with viewers (v) and commerce (m).
WITH
counts AS (
    SELECT
        {{ group_keys }},
        count(view_event)                AS views,
        count(like_event)                AS likes,
        count(comment_event)             AS comments,
        count(share_event)               AS shares,
        count(complete_event)            AS completes,
        count(click_event)               AS clicks,
        sum(view_watch_time_s)           AS watch_time_s_sum,
        count(view_watch_time_s)         AS watch_time_s_n,
        count(unidentified_purchase)     AS unidentified_purchases,
        coalesce(sum(purchase_revenue), 0) AS gmv,
        count(unidentified_refund)       AS unidentified_refunds,
        coalesce(sum(refund_revenue), 0) AS refund_revenue
    FROM kpi_events
    GROUP BY {{ group_keys }}
),
viewers AS (
    SELECT {{ group_keys }}, count(*) AS viewers
    FROM (
        SELECT DISTINCT {{ group_keys }}, viewer_id
        FROM kpi_events
        WHERE viewer_id IS NOT NULL
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
    coalesce(v.viewers, 0)                                          AS viewers,
    c.likes,
    c.comments,
    c.shares,
    c.completes,
    c.clicks,
    c.watch_time_s_sum,
    c.watch_time_s_n,
    coalesce(m.purchasers, 0)                                       AS purchasers,
    coalesce(m.purchase_orders, 0) + c.unidentified_purchases       AS orders,
    c.gmv,
    coalesce(m.refund_orders, 0) + c.unidentified_refunds           AS refunded_orders,
    c.refund_revenue
FROM counts AS c
LEFT JOIN viewers AS v ON {{ viewers_join }}
LEFT JOIN commerce AS m ON {{ commerce_join }};
