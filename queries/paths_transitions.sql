-- User paths: transition counts between consecutive steps of every path (temp table path_steps),
-- each path framed as $path_start -> step ... step -> $path_end (chronological order).
-- Output: from_state, to_state, transitions (count over all paths).
WITH chained AS (
    SELECT
        event_name,
        lag(event_name) OVER chronological AS previous_name,
        lead(event_name) OVER chronological AS next_name
    FROM path_steps
    WINDOW chronological AS (PARTITION BY user_id, path_key ORDER BY step)
),
pairs AS (
    SELECT coalesce(previous_name, $path_start) AS from_state, event_name AS to_state
    FROM chained
    UNION ALL
    SELECT event_name AS from_state, $path_end AS to_state
    FROM chained
    WHERE next_name IS NULL
)
SELECT from_state, to_state, count(*) AS transitions
FROM pairs
GROUP BY from_state, to_state
ORDER BY from_state, to_state;
