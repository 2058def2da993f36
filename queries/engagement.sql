-- Engagement and commerce KPI ingredients per group of the breakdown columns, in one scan of kpi_events
-- (kpi_events_view.sql decides what each marker counts; kpi.py derives the rates from these sums), and
-- active_users: the distinct users with any event of the group (the size that --min-group-size tests).
-- Fragments (built by engagement.py): group_keys = the breakdown columns as quoted identifiers, e.g.
-- "creator_id", "platform"; active_users = count(DISTINCT user_id), or a NULL constant when nothing is
-- suppressed (the distinct count of (group, user) pairs doubles the cost of the scan).
SELECT
    {{ group_keys }},
    count(view_event)                                               AS views,
    count(DISTINCT viewer_id)                                       AS viewers,
    count(like_event)                                               AS likes,
    count(comment_event)                                            AS comments,
    count(share_event)                                              AS shares,
    count(complete_event)                                           AS completes,
    count(click_event)                                              AS clicks,
    sum(view_watch_time_s)                                          AS watch_time_s_sum,
    count(view_watch_time_s)                                        AS watch_time_s_n,
    count(DISTINCT purchaser_id)                                    AS purchasers,
    count(DISTINCT purchase_order_id) + count(unidentified_purchase) AS orders,
    coalesce(sum(purchase_revenue), 0)                              AS gmv,
    count(DISTINCT refund_order_id) + count(unidentified_refund)    AS refunded_orders,
    coalesce(sum(refund_revenue), 0)                                AS refund_revenue,
    {{ active_users }}                                              AS active_users
FROM kpi_events
GROUP BY {{ group_keys }};
