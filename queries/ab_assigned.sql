-- One row per user of one experiment: their variant(s), first assignment time and analysis windows.
-- $experiment: the experiment id; $pre_period: INTERVAL before assignment read for the CUPED covariate
-- (0 = none); $window: INTERVAL after assignment counted by the metrics (NULL = no end).
-- Fragments (built by abtest/metrics.py): assigned_at = the column as naive UTC timestamp; join_key = the
-- user_id cast to the events' user_id type; segment = the --by column from the assignments, or NULL.
-- A user seen with more than one variant has variants > 1 and is left out of every analysis.
-- $assigned_from / $assigned_to: with --from/--to, only users first assigned in [from, to) (UTC bounds of
-- the local dates; NULL = open) are analysed.
CREATE OR REPLACE TEMP TABLE ab_assigned AS
SELECT
    user_id,
    {{ join_key }}                              AS join_key,
    variant,
    variants,
    assigned_at,
    assigned_at - $pre_period                   AS pre_start,
    assigned_at + CAST($window AS INTERVAL)     AS post_end,
    segment
FROM (
    SELECT
        user_id,
        min(CAST(variant AS VARCHAR))           AS variant,
        count(DISTINCT CAST(variant AS VARCHAR)) AS variants,
        min({{ assigned_at }})                  AS assigned_at,
        {{ segment }}                           AS segment
    FROM ab_assignments_raw
    WHERE CAST(experiment_id AS VARCHAR) = $experiment
      AND user_id IS NOT NULL
      AND variant IS NOT NULL
      AND {{ assigned_at }} IS NOT NULL
    GROUP BY user_id
) AS per_user
WHERE ($assigned_from IS NULL OR assigned_at >= $assigned_from)
  AND ($assigned_to IS NULL OR assigned_at < $assigned_to);
