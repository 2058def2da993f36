-- Experiments in the assignments, with the number of rows lacking user_id, variant or assigned_at.
-- The assigned_at fragment converts the column to a naive UTC timestamp (built by abtest/metrics.py).
SELECT
    CAST(experiment_id AS VARCHAR) AS experiment_id,
    count(*)                       AS rows,
    sum(CASE WHEN user_id IS NULL OR variant IS NULL OR {{ assigned_at }} IS NULL THEN 1 ELSE 0 END)
                                   AS incomplete_rows
FROM ab_assignments_raw
WHERE experiment_id IS NOT NULL
GROUP BY CAST(experiment_id AS VARCHAR)
ORDER BY experiment_id;
