-- Adds the experiment arm to a modelling frame: the registered relation `frame` (one row per unit,
-- with user_id, start_time and a row number `frame_row`) left-joined to `ab_assigned` (one row per
-- user of the experiment, created by abtest/metrics.py: load_assignments). Definitions: docs/regress.md.
--   variant  the user's variant (NULL when the user is not in the experiment or has several variants)
--   treated  1 when variant = $treatment and, for units other than user, the unit started at or after
--            assigned_at (the arm cannot act before assignment); else 0
-- Parameters: $treatment (the treated variant), $per_user (BOOLEAN: unit = user, intent to treat).
SELECT
    frame.*,
    CASE WHEN assigned.variants = 1 THEN assigned.variant END AS variant,
    CAST(coalesce(assigned.variants = 1 AND assigned.variant = $treatment
                  AND ($per_user OR frame.start_time >= assigned.assigned_at), false) AS INTEGER) AS treated
FROM frame
LEFT JOIN ab_assigned AS assigned ON assigned.join_key = frame.user_id
ORDER BY frame.frame_row;
