-- KPI ingredients per calendar period in one scan of kpi_events, rolled up over grouping sets of
-- (day | week | month [, breakdown columns]). Level 1 adds up each user's events per local day (and per
-- order on purchase/refund rows) so that the distinct counts of level 2 run over user-days, not events;
-- level 2 adds level-1 rows up exactly as engagement.sql adds up events.
-- Fragments (built by kpi.py): day_expr = the local day of an event, week_expr / month_expr = the
-- period start of a `day`, grain_select = ", <expr> AS g0, ..." (breakdown columns, may be empty),
-- grain_keys = ", g0, ..." (their names), grouping_sets = the sets, e.g. (day), (week), (day, g0).
SELECT
    day, week, month {{ grain_keys }},
    GROUPING(day, week, month {{ grain_keys }})                    AS grouping_id,
    sum(views)                                                      AS views,
    count(DISTINCT viewer_id)                                       AS viewers,
    sum(likes)                                                      AS likes,
    sum(comments)                                                   AS comments,
    sum(shares)                                                     AS shares,
    sum(completes)                                                  AS completes,
    sum(clicks)                                                     AS clicks,
    sum(watch_time_s_sum)                                           AS watch_time_s_sum,
    sum(watch_time_s_n)                                             AS watch_time_s_n,
    count(DISTINCT purchaser_id)                                    AS purchasers,
    count(DISTINCT purchase_order_id) + sum(unidentified_purchases) AS orders,
    coalesce(sum(gmv), 0)                                           AS gmv,
    count(DISTINCT refund_order_id) + sum(unidentified_refunds)     AS refunded_orders,
    coalesce(sum(refund_revenue), 0)                                AS refund_revenue,
    count(DISTINCT user_id)                                         AS active_users
FROM (
    SELECT user_days.*, {{ week_expr }} AS week, {{ month_expr }} AS month
    FROM (
        SELECT
            user_id, day, order_key {{ grain_keys }},
            count(view_event)                  AS views,
            max(viewer_id)                     AS viewer_id,
            count(like_event)                  AS likes,
            count(comment_event)               AS comments,
            count(share_event)                 AS shares,
            count(complete_event)              AS completes,
            count(click_event)                 AS clicks,
            sum(view_watch_time_s)             AS watch_time_s_sum,
            count(view_watch_time_s)           AS watch_time_s_n,
            max(purchaser_id)                  AS purchaser_id,
            max(purchase_order_id)             AS purchase_order_id,
            count(unidentified_purchase)       AS unidentified_purchases,
            sum(purchase_revenue)              AS gmv,
            max(refund_order_id)               AS refund_order_id,
            count(unidentified_refund)         AS unidentified_refunds,
            sum(refund_revenue)                AS refund_revenue
        FROM (
            SELECT
                kpi_events.*,
                {{ day_expr }}                                     AS day,
                coalesce(purchase_order_id, refund_order_id)       AS order_key
                {{ grain_select }}
            FROM kpi_events
        ) AS keyed
        GROUP BY user_id, day, order_key {{ grain_keys }}
    ) AS user_days
) AS user_periods
GROUP BY GROUPING SETS ({{ grouping_sets }});
