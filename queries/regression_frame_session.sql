-- Modelling frame, unit = session: one row per (user_id, session_id) with at least one `video_view`
-- inside the --from/--to range. Feature definitions: docs/regress.md.
--
-- Counts are over the session's events in the range. start_time is the session's first event,
-- duration_min the minutes from its first to its last event. platform, traffic_source and creator_id
-- describe the session's first view (where set). Outcomes are the purchases inside the session:
-- purchased (0/1), orders (distinct order_id, a purchase without one counting once), revenue (sum).
-- No parameters (the range is applied by the `events` view).
-- Included: regression_frame_aggregates.sql (shared with the user frame: the first view's
-- attributes, the engagement counts and rates, the outcomes).
SELECT
    user_id,
    session_id,
    min(event_time)                                                                 AS start_time,
    (epoch(max(event_time)) - epoch(min(event_time))) / 60.0                        AS duration_min,
    {% include "regression_frame_aggregates.sql" %}
FROM events
WHERE user_id IS NOT NULL AND session_id IS NOT NULL
GROUP BY user_id, session_id
HAVING count(*) FILTER (WHERE event_name = 'video_view') > 0
ORDER BY user_id, session_id;
