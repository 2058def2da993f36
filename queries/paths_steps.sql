-- User paths, stage 2: the steps of every path (temp table path_walk), one row per (path, step), into
-- temp table path_steps.
-- A step is one kept event of the walk, or with $collapse one run of equal event names, whose
-- repeats = events in the run (the gap to the next run start, or to the end of the horizon).
-- Output: path_id, user_id, step (1..$steps forward, -1..-$steps backward: the anchor is step 1 or
-- -1, so ORDER BY step is chronological), event_name, repeats, converted, previous_name (the
-- chronologically previous step's event, NULL at the path's first step) and is_last (true at the
-- path's chronologically last step).
CREATE OR REPLACE TEMP TABLE path_steps AS
WITH runs AS (
    SELECT
        path_id,
        user_id,
        event_name,
        converted,
        row_number() OVER walk AS step,
        count(*) OVER (walk ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS runs,
        CASE WHEN $collapse THEN coalesce(lead(position) OVER walk, horizon_size + 1) - position
             ELSE 1 END AS repeats,
        lag(event_name) OVER walk AS nearer_name,
        lead(event_name) OVER walk AS farther_name
    FROM path_walk
    WINDOW walk AS (PARTITION BY path_id ORDER BY position)
)
SELECT
    path_id,
    user_id,
    CASE WHEN $forward THEN step ELSE -step END AS step,
    event_name,
    repeats,
    converted,
    CASE WHEN $forward THEN nearer_name
         WHEN step < least(runs, $steps) THEN farther_name END AS previous_name,
    CASE WHEN $forward THEN step = least(runs, $steps) ELSE step = 1 END AS is_last
FROM runs
WHERE step <= $steps;
