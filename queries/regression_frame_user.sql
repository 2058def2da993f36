-- Modelling frame, unit = user: one row per user with at least one `video_view` inside the
-- --from/--to range (the viewers of the conversion-rate KPI). Feature definitions: docs/regress.md.
--
-- Counts are over the user's events in the range. platform, traffic_source and creator_id describe
-- the user's first view in the range (where set): the platform and channel the user arrived by and the
-- creator of the first video watched (a clustering level). Outcomes are the user's purchases in the
-- range: purchased (0/1), orders (distinct order_id, a purchase without one counting once), revenue
-- (sum of purchase revenue, i.e. the user's GMV).
-- No parameters (the range is applied by the `events` view).
-- Included: regression_frame_aggregates.sql (shared with the session frame: the first view's
-- attributes, the engagement counts and rates, the outcomes). The outer SELECT fixes the column order.
SELECT
    user_id, start_time, platform, traffic_source, creator_id, views, likes, comments, shares, completes,
    follows, product_clicks, watch_min, sessions, active_days, completion_rate, engagement_rate, purchased,
    orders, revenue
FROM (
    SELECT
        user_id,
        min(event_time) FILTER (WHERE event_name = 'video_view')                        AS start_time,
        count(DISTINCT session_id)                                                      AS sessions,
        count(DISTINCT CAST(local_time AS DATE))                                        AS active_days,
        {% include "regression_frame_aggregates.sql" %}
    FROM events
    WHERE user_id IS NOT NULL
    GROUP BY user_id
    HAVING count(*) FILTER (WHERE event_name = 'video_view') > 0
) AS per_user
ORDER BY user_id;
