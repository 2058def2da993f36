-- Modelling frame, unit = session: one row per (user_id, session_id) with at least one `video_view`
-- inside the --from/--to range. Feature definitions: docs/regress.md.
--
-- Counts are over the session's events in the range. start_time is the session's first event,
-- duration_min the minutes from its first to its last event. platform, traffic_source and creator_id
-- describe the session's first view (where set). Outcomes are the purchases inside the session:
-- purchased (0/1), orders (distinct order_id, a purchase without one counting once), revenue (sum).
-- No parameters (the range is applied by the `events` view).
SELECT
    user_id,
    session_id,
    min(event_time)                                                                 AS start_time,
    (epoch(max(event_time)) - epoch(min(event_time))) / 60.0                        AS duration_min,
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
    CAST(count(*) FILTER (WHERE event_name = 'video_complete') AS DOUBLE)
        / count(*) FILTER (WHERE event_name = 'video_view')                         AS completion_rate,
    CAST(count(*) FILTER (WHERE event_name IN ('like', 'comment', 'share')) AS DOUBLE)
        / count(*) FILTER (WHERE event_name = 'video_view')                         AS engagement_rate,
    CAST(count(*) FILTER (WHERE event_name = 'purchase') > 0 AS INTEGER)            AS purchased,
    count(DISTINCT order_id) FILTER (WHERE event_name = 'purchase')
        + count(*) FILTER (WHERE event_name = 'purchase' AND order_id IS NULL)      AS orders,
    coalesce(sum(revenue) FILTER (WHERE event_name = 'purchase'), 0)                AS revenue
FROM events
WHERE user_id IS NOT NULL AND session_id IS NOT NULL
GROUP BY user_id, session_id
HAVING count(*) FILTER (WHERE event_name = 'video_view') > 0
ORDER BY user_id, session_id;
