-- One pass over the canonical events: size, time range, users, nulls per canonical column, future rows.
-- $as_of: events later than this UTC timestamp are "in the future".
SELECT
    count(*)                                   AS rows,
    min(event_time)                            AS first_event_utc,
    max(event_time)                            AS last_event_utc,
    min(local_time)                            AS first_event_local,
    max(local_time)                            AS last_event_local,
    count(DISTINCT user_id)                    AS users,
    count(*) FILTER (WHERE event_time > $as_of) AS future_events,
    count(*) - count(event_time)               AS null_event_time,
    count(*) - count(user_id)                  AS null_user_id,
    count(*) - count(event_name)               AS null_event_name,
    count(*) - count(session_id)               AS null_session_id,
    count(*) - count(video_id)                 AS null_video_id,
    count(*) - count(creator_id)               AS null_creator_id,
    count(*) - count(product_id)               AS null_product_id,
    count(*) - count(order_id)                 AS null_order_id,
    count(*) - count(revenue)                  AS null_revenue,
    count(*) - count(watch_time_s)             AS null_watch_time_s,
    count(*) - count(platform)                 AS null_platform,
    count(*) - count(traffic_source)           AS null_traffic_source,
    count(*) - count(device)                   AS null_device,
    count(*) - count(region)                   AS null_region
FROM events;
