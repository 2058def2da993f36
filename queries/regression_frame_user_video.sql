-- Modelling frame, unit = user_video: one row per (user_id, video_id) pair with at least one
-- `video_view` of the video by the user inside the --from/--to range. Feature definitions: docs/regress.md.
--
-- Exposure (the first view of the pair) defines the row; its attributes are those of the earliest view:
-- creator_id, product_id (the product shown in the video), platform, traffic_source, session_id.
-- Engagement counts are over the pair's events in the range.
-- Outcomes: the user's purchases with  first view <= purchase time <= first view + window  that
-- came from the video: a purchase carrying a video_id counts for that video; one without a video_id
-- counts for every video of the user showing its product_id.
-- Follow-up looks at the whole export (events_all), so a view on the last day of the range keeps its
-- full purchase window and a follow before --from still counts.
--
-- Parameters:
--   $window  INTERVAL  length of the purchase window after the first view
WITH viewed AS (
    -- one struct arg_min instead of one per attribute: the attributes of the same (first) view
    SELECT
        user_id,
        video_id,
        min(event_time)                                                             AS start_time,
        arg_min({'creator_id': creator_id, 'product_id': product_id, 'platform': platform,
                 'traffic_source': traffic_source, 'session_id': session_id}, event_time) AS first_view,
        count(*)                                                                    AS views,
        coalesce(fsum(watch_time_s), 0) / 60.0                                       AS watch_min
    FROM events
    WHERE event_name = 'video_view' AND user_id IS NOT NULL AND video_id IS NOT NULL
    GROUP BY user_id, video_id
),
engaged AS (
    SELECT
        user_id,
        video_id,
        count(*) FILTER (WHERE event_name = 'like')           AS likes,
        count(*) FILTER (WHERE event_name = 'comment')        AS comments,
        count(*) FILTER (WHERE event_name = 'share')          AS shares,
        count(*) FILTER (WHERE event_name = 'video_complete') AS completes,
        count(*) FILTER (WHERE event_name = 'product_click')  AS product_clicks
    FROM events
    WHERE event_name IN ('like', 'comment', 'share', 'video_complete', 'product_click')
      AND user_id IS NOT NULL AND video_id IS NOT NULL
    GROUP BY user_id, video_id
),
pair AS (
    SELECT
        viewed.user_id,
        viewed.video_id,
        viewed.start_time,
        viewed.first_view.creator_id     AS creator_id,
        viewed.first_view.product_id     AS product_id,
        viewed.first_view.platform       AS platform,
        viewed.first_view.traffic_source AS traffic_source,
        viewed.first_view.session_id     AS session_id,
        viewed.views,
        viewed.watch_min,
        coalesce(engaged.likes, 0)          AS likes,
        coalesce(engaged.comments, 0)       AS comments,
        coalesce(engaged.shares, 0)         AS shares,
        coalesce(engaged.completes, 0)      AS completes,
        coalesce(engaged.product_clicks, 0) AS product_clicks
    FROM viewed
    LEFT JOIN engaged ON engaged.user_id = viewed.user_id AND engaged.video_id = viewed.video_id
),
purchase AS (
    SELECT user_id, video_id, product_id, event_time, order_id, revenue
    FROM events_all
    WHERE event_name = 'purchase' AND (video_id IS NOT NULL OR product_id IS NOT NULL)
),
-- The first view and product of the pairs of purchasing users only (the same definitions as in `viewed`):
-- a second, filtered read of the views keeps `pair` from being materialised for the join below.
purchaser_pair AS (
    SELECT
        user_id,
        video_id,
        min(event_time)                                        AS start_time,
        arg_min({'product_id': product_id}, event_time).product_id AS product_id
    FROM events
    WHERE event_name = 'video_view'
      AND video_id IS NOT NULL
      AND user_id IN (SELECT user_id FROM purchase)
    GROUP BY user_id, video_id
),
-- (pair, purchase) matches: by video_id where the purchase names its video, else by product shown
matched AS (
    SELECT pp.user_id, pp.video_id, pp.start_time, p.event_time, p.order_id, p.revenue
    FROM purchaser_pair AS pp
    JOIN purchase AS p ON p.user_id = pp.user_id AND p.video_id = pp.video_id
    UNION ALL
    SELECT pp.user_id, pp.video_id, pp.start_time, p.event_time, p.order_id, p.revenue
    FROM purchaser_pair AS pp
    JOIN purchase AS p ON p.user_id = pp.user_id AND p.product_id = pp.product_id AND p.video_id IS NULL
),
outcome AS (
    SELECT
        user_id,
        video_id,
        -- orders: distinct order_id, a purchase without order_id counting as its own order
        count(DISTINCT order_id) + count(*) FILTER (WHERE order_id IS NULL) AS orders,
        coalesce(fsum(revenue), 0)                                          AS revenue
    FROM matched
    WHERE event_time >= start_time AND event_time <= start_time + $window
    GROUP BY user_id, video_id
),
first_follow AS (
    SELECT user_id, creator_id, min(event_time) AS follow_time
    FROM events_all
    WHERE event_name = 'follow' AND creator_id IS NOT NULL
    GROUP BY user_id, creator_id
)
SELECT
    pair.user_id,
    pair.video_id,
    pair.creator_id,
    pair.product_id,
    pair.session_id,
    pair.platform,
    pair.traffic_source,
    pair.start_time,
    pair.views,
    pair.likes,
    pair.comments,
    pair.shares,
    pair.completes,
    pair.product_clicks,
    pair.watch_min,
    CAST(pair.likes > 0 AS INTEGER)                                   AS liked,
    CAST(pair.comments > 0 AS INTEGER)                                AS commented,
    CAST(pair.shares > 0 AS INTEGER)                                  AS shared,
    CAST(pair.completes > 0 AS INTEGER)                               AS completed,
    CAST(coalesce(first_follow.follow_time <= pair.start_time, false) AS INTEGER) AS follows_creator,
    CAST(coalesce(outcome.orders, 0) > 0 AS INTEGER)                  AS purchased,
    coalesce(outcome.orders, 0)                                       AS orders,
    coalesce(outcome.revenue, 0)                                      AS revenue,
    -- 1 when the export ends before the purchase window does: the outcome may be understated
    CAST(pair.start_time + $window > (SELECT max(event_time) FROM events_all) AS INTEGER) AS censored
FROM pair
LEFT JOIN first_follow
  ON first_follow.user_id = pair.user_id AND first_follow.creator_id = pair.creator_id
LEFT JOIN outcome
  ON outcome.user_id = pair.user_id AND outcome.video_id = pair.video_id
ORDER BY pair.user_id, pair.video_id;
