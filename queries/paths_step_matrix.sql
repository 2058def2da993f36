-- User paths: how many paths are at each event in each step (temp table path_steps).
-- step: 1..n from the start event (forward) or -1..-n back from the end event (backward).
SELECT step, event_name, count(*) AS paths
FROM path_steps
GROUP BY step, event_name
ORDER BY step, paths DESC, event_name;
