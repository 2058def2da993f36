-- User paths, stage 1: the steps of every path, one row per (path, step), into temp table path_steps.
--
-- Anchor: the first event (by event_time) matching the anchor selector among the events in the date
-- range, one per user, or one per (user, session) with $by_session. The anchor selector is --start in
-- forward mode ($forward true) and --end in backward mode.
-- Horizon: the events of the same user (and session) from events_all (not cut by the date range) on
-- the anchor's side: at or after the anchor time and at most $window_seconds later (forward), or at
-- or before it and at most $window_seconds earlier (backward); edges inclusive; $window_seconds is
-- NULL with $by_session (the session bounds the horizon).
-- Order: event_time, then, at equal times, anchor-selector events first (forward) or last (backward),
-- then event_name. Walking away from the anchor in that order numbers the steps; with $collapse a run
-- of consecutive equal event names is one step and `repeats` counts its events.
-- Output columns: user_id, path_key (session id, '' without sessions), step (1..$steps forward,
-- -1..-$steps backward: the anchor is step 1 or -1, so ORDER BY step is chronological),
-- event_name, repeats, converted (1 when the horizon, anchor included, holds an event matching the
-- end_predicate fragment, else 0; the fragment is FALSE when there is no conversion event).
-- Fragments: anchor_predicate and end_predicate are selector predicates over alias e.
CREATE OR REPLACE TEMP TABLE path_steps AS
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
        h.user_id,
        h.path_key,
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
    -- walk order: chronological forward, reverse-chronological backward
    SELECT
        user_id,
        path_key,
        event_name,
        is_end,
        row_number() OVER walk AS position,
        lag(event_name) OVER walk AS previous_name
    FROM horizon
    WINDOW walk AS (
        PARTITION BY user_id, path_key
        ORDER BY CASE WHEN $forward THEN event_time END ASC,
                 CASE WHEN $forward THEN NULL ELSE event_time END DESC,
                 CASE WHEN $forward THEN tie_rank ELSE -tie_rank END ASC,
                 CASE WHEN $forward THEN event_name END ASC,
                 CASE WHEN $forward THEN NULL ELSE event_name END DESC
    )
),
numbered AS (
    SELECT
        user_id,
        path_key,
        event_name,
        sum(CASE WHEN $collapse AND event_name = previous_name THEN 0 ELSE 1 END) OVER (
            PARTITION BY user_id, path_key ORDER BY position
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS step,
        max(is_end) OVER (PARTITION BY user_id, path_key) AS converted
    FROM walked
)
SELECT
    user_id,
    path_key,
    CASE WHEN $forward THEN step ELSE -step END AS step,
    min(event_name) AS event_name,
    count(*) AS repeats,
    max(converted) AS converted
FROM numbered
WHERE step <= $steps
GROUP BY user_id, path_key, step;
