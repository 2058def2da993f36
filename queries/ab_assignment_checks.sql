-- What the assignments must hold before any experiment is read (abtest/metrics.py refuses the rest):
-- rows, rows with each required column set, and the first and last assigned_at (epoch microseconds, UTC).
-- The assigned_at fragment converts the column to a naive UTC timestamp, or is a typed NULL when the
-- column's type is no timestamp (refused afterwards, naming the type).
SELECT
    count(*)                           AS rows,
    count(experiment_id)               AS experiment_id,
    count(user_id)                     AS user_id,
    count(variant)                     AS variant,
    count(assigned_at)                 AS assigned_at,
    min(epoch_us({{ assigned_at }}))   AS first_assigned,
    max(epoch_us({{ assigned_at }}))   AS last_assigned
FROM ab_assignments_raw;
