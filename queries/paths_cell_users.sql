-- User paths: the distinct users behind each cell of the transition and step matrices (temp table
-- path_steps), for small-cell suppression (docs/privacy.md); run only when --min-group-size > 1.
-- One row per cell: matrix, step, from_state, to_state, users.
--   'transition': from_state -> to_state framed as in paths_transitions.sql ($path_start before a
--                 path's first step, $path_end after its last); users with at least one such transition.
--   'state':      from_state = an event name, or $path_start; the users of that row of the transition
--                 matrix: users with a step at the event (every step is followed by exactly one
--                 transition), every user for $path_start.
--   'step':       step, to_state = an event name; users with a path at that event in that step.
--   'length':     step = a number of steps; users whose shortest path has that many steps (a path shorter
--                 than step k is in the step matrix's filler state at k).
SELECT 'transition' AS matrix, CAST(NULL AS BIGINT) AS step, coalesce(previous_name, $path_start) AS from_state,
       event_name AS to_state, count(DISTINCT user_id) AS users
FROM path_steps
GROUP BY 3, 4
UNION ALL
SELECT 'transition', CAST(NULL AS BIGINT), event_name, $path_end, count(DISTINCT user_id)
FROM path_steps
WHERE is_last
GROUP BY 3
UNION ALL
SELECT 'state', CAST(NULL AS BIGINT), event_name, CAST(NULL AS VARCHAR), count(DISTINCT user_id)
FROM path_steps
GROUP BY 3
UNION ALL
SELECT 'state', CAST(NULL AS BIGINT), $path_start, CAST(NULL AS VARCHAR), count(DISTINCT user_id)
FROM path_steps
UNION ALL
SELECT 'step', CAST(step AS BIGINT), CAST(NULL AS VARCHAR), event_name, count(DISTINCT user_id)
FROM path_steps
GROUP BY 2, 4
UNION ALL
SELECT 'length', shortest, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), count(*)
FROM (
    SELECT user_id, min(steps_taken) AS shortest
    FROM (SELECT user_id, count(*) AS steps_taken FROM path_steps GROUP BY path_id, user_id) AS per_path
    GROUP BY user_id
) AS per_user
GROUP BY shortest;
