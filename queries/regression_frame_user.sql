-- Modelling frame, unit = user: one row per user with at least one `video_view` inside the
-- --from/--to range (the viewers of the conversion-rate KPI). Feature definitions: docs/regress.md.
--
-- Counts are over the user's events in the range. platform, traffic_source and creator_id describe
-- the user's first view in the range (where set): the platform and channel the user arrived by and the
-- creator of the first video watched (a clustering level). Outcomes are the user's purchases in the
-- range: purchased (0/1), orders (distinct order_id, a purchase without one counting once), revenue
-- (sum of purchase revenue, i.e. the user's GMV).
-- No parameters (the range is applied by the `events` view).
SELECT
    user_id,
    min(event_time) FILTER (WHERE event_name = 'video_view')                      AS start_time,
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
    coalesce(sum(watch_time_s) FILTER (WHERE event_name = 'video_view'), 0) / 60.0  AS watch_min,
    count(DISTINCT session_id)                                                      AS sessions,
    count(DISTINCT CAST(local_time AS DATE))                                        AS active_days,
    CAST(count(*) FILTER (WHERE event_name = 'video_complete') AS DOUBLE)
        / count(*) FILTER (WHERE event_name = 'video_view')                         AS completion_rate,
    CAST(count(*) FILTER (WHERE event_name IN ('like', 'comment', 'share')) AS DOUBLE)
        / count(*) FILTER (WHERE event_name = 'video_view')                         AS engagement_rate,
    CAST(count(*) FILTER (WHERE event_name = 'purchase') > 0 AS INTEGER)            AS purchased,
    count(DISTINCT order_id) FILTER (WHERE event_name = 'purchase')
        + count(*) FILTER (WHERE event_name = 'purchase' AND order_id IS NULL)      AS orders,
    coalesce(sum(revenue) FILTER (WHERE event_name = 'purchase'), 0)                AS revenue
FROM events
WHERE user_id IS NOT NULL
GROUP BY user_id
HAVING count(*) FILTER (WHERE event_name = 'video_view') > 0
ORDER BY user_id;
