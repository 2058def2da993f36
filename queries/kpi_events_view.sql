-- The event-level ingredients of every KPI (definitions: docs/kpi.md, the KPI table of the product README).
-- One row per row of `events`, with marker columns that are NULL unless the event counts towards an
-- ingredient: count(marker) is a number of events, count(DISTINCT id_marker) a number of users or orders,
-- sum(value_marker) a sum. engagement.sql and kpi_periods.sql only add these markers up; what counts as a
-- view, an order or GMV is decided here and nowhere else. Every event is attributed by its own row: its own
-- time and its own video_id / creator_id / product_id / platform / traffic_source (refunds included).
-- Money and watch time are summed as DECIMAL(38, 6): exact sums do not depend on the order in which
-- threads add them up, so the same input always gives the same digits.
CREATE OR REPLACE TEMP VIEW kpi_events AS
SELECT
    e.*,
    CASE WHEN e.event_name = 'video_view' THEN 1 END                             AS view_event,
    CASE WHEN e.event_name = 'video_view' THEN e.user_id END                     AS viewer_id,
    CASE WHEN e.event_name = 'video_view' THEN CAST(e.watch_time_s AS DECIMAL(38, 6)) END AS view_watch_time_s,
    CASE WHEN e.event_name = 'video_complete' THEN 1 END                         AS complete_event,
    CASE WHEN e.event_name = 'like' THEN 1 END                                   AS like_event,
    CASE WHEN e.event_name = 'comment' THEN 1 END                                AS comment_event,
    CASE WHEN e.event_name = 'share' THEN 1 END                                  AS share_event,
    CASE WHEN e.event_name = 'product_click' THEN 1 END                          AS click_event,
    CASE WHEN e.event_name = 'purchase' THEN e.user_id END                       AS purchaser_id,
    -- orders: distinct order_id of purchases, plus each purchase without an order_id counted once
    CASE WHEN e.event_name = 'purchase' THEN e.order_id END                      AS purchase_order_id,
    CASE WHEN e.event_name = 'purchase' AND e.order_id IS NULL THEN 1 END        AS unidentified_purchase,
    CASE WHEN e.event_name = 'purchase' THEN CAST(e.revenue AS DECIMAL(38, 6)) END AS purchase_revenue,
    -- refunded orders: distinct order_id of refunds, plus each refund without an order_id counted once
    CASE WHEN e.event_name = 'refund' THEN e.order_id END                        AS refund_order_id,
    CASE WHEN e.event_name = 'refund' AND e.order_id IS NULL THEN 1 END          AS unidentified_refund,
    CASE WHEN e.event_name = 'refund' THEN CAST(e.revenue AS DECIMAL(38, 6)) END   AS refund_revenue,
    CASE WHEN e.event_name IN ('purchase', 'refund') THEN 1 END                  AS commerce_event
FROM events AS e;
