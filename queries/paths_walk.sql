{% import "_macros.sql" as m %}
{% set anchor_predicate = m.selector(anchor, "e") %}
{% set end_predicate = m.selector(conversion, "e") if conversion else "FALSE" %}
-- User paths, stage 1: every path's horizon walked away from its anchor, into temp table path_walk.
--
-- Anchor: the first event (by event_time) matching the anchor selector among the events in the date
-- range, one per user, or one per (user, session) with $by_session. The anchor selector is --start in
-- forward mode ($forward true) and --end in backward mode.
-- Horizon: the events of the same user (and session) from events_all (not cut by the date range) on
-- the anchor's side: at or after the anchor time and at most $window_seconds later (forward), or at
-- or before it and at most $window_seconds earlier (backward); edges inclusive; $window_seconds is
-- NULL with $by_session (the session bounds the horizon).
-- Order: event_time, then, at equal times, anchor-selector events first (forward) or last (backward),
-- then event_name. The walk goes away from the anchor in that order: position 1 is the anchor.
-- Output, one row per kept event: path_id (numbers the anchors), user_id, position,
-- event_name, horizon_size (events in the horizon), converted (1 when the horizon, anchor included,
-- holds an event matching the end_predicate fragment, FALSE when there is no conversion event).
-- Kept: the first $steps positions; with $collapse instead every event starting a run of equal
-- event names (the next stage numbers the runs).
-- Template data: anchor and conversion (event selectors, for the selector macro over alias e; conversion
-- may be none: no event ends a path).
CREATE OR REPLACE TEMP TABLE path_walk AS
WITH anchors AS (
    SELECT
        e.user_id,
        CASE WHEN $by_session THEN CAST(e.session_id AS VARCHAR) ELSE '' END AS path_key,
        min(e.event_time) AS anchor_time
    FROM events AS e
    WHERE {{ anchor_predicate }}
      AND e.user_id IS NOT NULL
      AND e.event_time IS NOT NULL
      AND (NOT $by_session OR e.session_id IS NOT NULL)
    GROUP BY 1, 2
),
horizons AS (
    SELECT
        row_number() OVER () AS path_id,
        user_id,
        path_key,
        CASE WHEN $forward THEN anchor_time
             ELSE anchor_time - INTERVAL ($window_seconds) SECOND END AS horizon_start,
        CASE WHEN $forward THEN anchor_time + INTERVAL ($window_seconds) SECOND
             ELSE anchor_time END AS horizon_end
    FROM anchors
),
horizon AS (
    SELECT
        h.path_id,
        h.user_id,
        e.event_time,
        e.event_name,
        -- 0 sorts first: anchor-selector events forward, the other events backward
        CASE WHEN coalesce({{ anchor_predicate }}, FALSE) = $forward THEN 0 ELSE 1 END AS tie_rank,
        CASE WHEN {{ end_predicate }} THEN 1 ELSE 0 END AS is_end
    FROM events_all AS e
    JOIN horizons AS h
      ON e.user_id = h.user_id
     AND CASE WHEN $by_session THEN CAST(e.session_id AS VARCHAR) ELSE '' END = h.path_key
    WHERE e.event_name IS NOT NULL
      AND e.event_time IS NOT NULL
      AND (h.horizon_start IS NULL OR e.event_time >= h.horizon_start)
      AND (h.horizon_end IS NULL OR e.event_time <= h.horizon_end)
),
walked AS (
    SELECT
        path_id,
        user_id,
        event_name,
        row_number() OVER walk AS position,
        lag(event_name) OVER walk AS previous_name,
        count(*) OVER (walk ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS horizon_size,
        max(is_end) OVER (walk ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS converted
    FROM horizon
    WINDOW walk AS (
        PARTITION BY path_id
        ORDER BY CASE WHEN $forward THEN event_time END ASC,
                 CASE WHEN $forward THEN NULL ELSE event_time END DESC,
                 CASE WHEN $forward THEN tie_rank ELSE -tie_rank END ASC,
                 CASE WHEN $forward THEN event_name END ASC,
                 CASE WHEN $forward THEN NULL ELSE event_name END DESC
    )
)
SELECT path_id, user_id, position, event_name, horizon_size, converted
FROM walked
WHERE CASE WHEN $collapse THEN previous_name IS NULL OR previous_name <> event_name
           ELSE position <= $steps END;
