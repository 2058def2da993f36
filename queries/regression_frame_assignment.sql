-- Adds the experiment arm to a modelling frame: the registered relation `frame` (one row per unit,
-- with user_id, start_time and a row number `frame_row`) left-joined to the assignments of one
-- experiment. Feature definitions: docs/regress.md.
--   variant  the user's variant (NULL when the user is not in the experiment); a user with several
--            rows keeps the earliest
--   treated  1 when variant = $treatment and, for units other than user, the unit started at or after
--            assigned_at (the arm cannot act before assignment); else 0
-- Parameters: $files (VARCHAR[]) assignment Parquet files, $experiment, $treatment, $per_user (BOOLEAN).
-- assigned_at may be TIMESTAMP (read as UTC) or TIMESTAMPTZ; the session time zone is UTC.
WITH assignment AS (
    SELECT
        CAST(user_id AS VARCHAR)         AS user_key,
        arg_min(variant, assigned_at)    AS variant,
        min(assigned_at)                 AS assigned_at
    FROM read_parquet($files)
    WHERE experiment_id = $experiment
    GROUP BY CAST(user_id AS VARCHAR)
)
SELECT
    frame.*,
    assignment.variant,
    CAST(coalesce(assignment.variant = $treatment
                  AND ($per_user OR frame.start_time >= assignment.assigned_at), false) AS INTEGER) AS treated
FROM frame
LEFT JOIN assignment ON assignment.user_key = CAST(frame.user_id AS VARCHAR)
ORDER BY frame.frame_row;
