-- User paths, stage 3: one row per path (temp table path_steps) into temp table path_sequences.
-- The step_columns fragment pivots the steps into columns event_k / repeats_k, k = 1..--steps
-- counted from the anchor (NULL beyond the path's length); converted: 0 or 1 (see paths_walk).
CREATE OR REPLACE TEMP TABLE path_sequences AS
SELECT
    path_id,
    user_id,
    max(converted) AS converted,
    {{ step_columns }}
FROM path_steps
GROUP BY path_id, user_id;
