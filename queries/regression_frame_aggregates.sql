-- Modelling frame, units user and session: the columns the two frames share, computed over the unit's
-- events in the --from/--to range. Included in the SELECT list of regression_frame_user.sql and
-- regression_frame_session.sql, whose GROUP BY (user_id; user_id, session_id) makes the unit.
-- Feature definitions: docs/regress.md.
--
-- platform, traffic_source and creator_id describe the unit's first view (where set). Engagement counts
-- and watch minutes are over the unit's events; completion_rate and engagement_rate are per view.
-- Outcomes are the unit's purchases: purchased (0/1), orders (distinct order_id, a purchase without one
-- counting once), revenue (sum of purchase revenue, i.e. GMV).
-- No parameters.
        arg_min(platform, event_time) FILTER (WHERE event_name = 'video_view')          AS platform,
        arg_min(traffic_source, event_time) FILTER (WHERE event_name = 'video_view')    AS traffic_source,
        arg_min(creator_id, event_time) FILTER (WHERE event_name = 'video_view')        AS creator_id,
        count(*) FILTER (WHERE event_name = 'video_view')                               AS views,
        count(*) FILTER (WHERE event_name = 'like')                                     AS likes,
        count(*) FILTER (WHERE event_name = 'comment')                                  AS comments,
        count(*) FILTER (WHERE event_name = 'share')                                    AS shares,
        count(*) FILTER (WHERE event_name = 'video_complete')                           AS completes,
        count(*) FILTER (WHERE event_name = 'follow')                                   AS follows,
        count(*) FILTER (WHERE event_name = 'product_click')                            AS product_clicks,
        coalesce(fsum(watch_time_s) FILTER (WHERE event_name = 'video_view'), 0) / 60.0  AS watch_min,
        CAST(count(*) FILTER (WHERE event_name = 'video_complete') AS DOUBLE)
            / count(*) FILTER (WHERE event_name = 'video_view')                         AS completion_rate,
        CAST(count(*) FILTER (WHERE event_name IN ('like', 'comment', 'share')) AS DOUBLE)
            / count(*) FILTER (WHERE event_name = 'video_view')                         AS engagement_rate,
        CAST(count(*) FILTER (WHERE event_name = 'purchase') > 0 AS INTEGER)            AS purchased,
        count(DISTINCT order_id) FILTER (WHERE event_name = 'purchase')
            + count(*) FILTER (WHERE event_name = 'purchase' AND order_id IS NULL)      AS orders,
        coalesce(fsum(revenue) FILTER (WHERE event_name = 'purchase'), 0)                AS revenue
