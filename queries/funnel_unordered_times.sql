-- Funnel, --order unordered: the step times of the counted attempts, written into funnel_best.taus.
--
-- For the attempt starting at entry_t, step k is completed at the earliest time T at which the funnel
-- events timed entry_t .. T (same user; with --hold the same held value) admit k steps with distinct events:
-- the events are taken in canonical order (t, step_rank, mask), a running maximum matching is computed with
-- Hall's theorem from running counts (the running_counts fragment, columns c_S; the matching fragment),
-- and step k's time is the first event time at which the matching reaches k.
-- Reads `tagged` (funnel_events.sql). Parameters: $window_us.
CREATE OR REPLACE TEMP TABLE funnel_best AS
WITH
tagged AS NOT MATERIALIZED (
    {{ funnel_events }}
),
window_events AS (
    SELECT b.user_id, b.cohort, e.t, e.step_rank, e.mask
    FROM funnel_best AS b
    JOIN tagged AS e
      ON e.user_id = b.user_id
     AND e.hold_value IS NOT DISTINCT FROM b.hold_value
     AND e.t >= b.entry_t
     AND e.t <= b.entry_t + $window_us
    WHERE b.level > 1 AND e.mask <> 0
),
running AS (
    SELECT user_id, cohort, t, {{ running_counts }}
    FROM window_events
    WINDOW so_far AS (
        PARTITION BY user_id, cohort
        ORDER BY t, step_rank, mask
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
completions AS (
    SELECT user_id, cohort, {{ matching }} AS matched, min(t) AS t
    FROM running
    GROUP BY ALL
),
step_times AS (
    SELECT user_id, cohort, list(t ORDER BY matched) AS taus
    FROM completions
    GROUP BY user_id, cohort
)
SELECT
    b.user_id, b.cohort, b.sort_key, b.level, b.entry_t, b.hold_value, b.by_value,
    CASE WHEN b.level = 1 THEN [b.entry_t] ELSE s.taus[1:b.level] END AS taus
FROM funnel_best AS b
LEFT JOIN step_times AS s
  ON s.user_id = b.user_id AND s.cohort IS NOT DISTINCT FROM b.cohort
