-- User paths: transition counts between consecutive steps of every path (temp table path_steps),
-- each path framed as $path_start -> step ... step -> $path_end in chronological order.
-- Output: from_state, to_state, transitions (count over all paths).
SELECT coalesce(previous_name, $path_start) AS from_state, event_name AS to_state, count(*) AS transitions
FROM path_steps
GROUP BY 1, 2
UNION ALL
SELECT event_name AS from_state, $path_end AS to_state, count(*) AS transitions
FROM path_steps
WHERE is_last
GROUP BY 1
ORDER BY from_state, to_state;
