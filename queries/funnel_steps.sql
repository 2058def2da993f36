-- Funnel: users per segment and step, and the time from the previous step, from funnel_users.
--
-- Segments (scope, value, cohort):
--   'total'     every user, by their counted attempt;
--   'by'        per --by value of the counted attempt's entry, for the $by_limit values with most entrants
--               (ties: smaller value first; $by_limit = 0 keeps every value);
--   'by_other'  the remaining values pooled;
--   'by_suppressed' the values with fewer than $min_group_size entrants pooled (small-cell suppression,
--               docs/privacy.md): never shown on their own, whatever their rank;
--   'trend'     per entry cohort (--trends), each user by their best attempt entering in that period;
--   'excluded'  the users left out of 'total' by --exclude (their counted attempt's steps).
-- Excluded users are left out of every other segment. value_rank orders the 'by' values; groups counts the
-- --by values a segment pools (distinct value ranks; 1 for a 'by' value, 0 outside the breakdown). Per segment and step k: users who reached step k on their counted attempt,
-- and for k > 1 the seconds from step k-1 to step k on that attempt: median and p90 (linear interpolation
-- between order statistics), mean. The grouping sets add one row per histogram bin (bin_from_s, the lower
-- edge of the bin holding the seconds, from the bin_lower fragment; bin rows have is_bin = true).
-- Parameters: $n_steps, $has_by, $by_limit, $min_group_size, $has_trends.
WITH
entrants AS (
    SELECT * FROM funnel_users WHERE NOT excluded
),
value_ranks AS (
    SELECT
        by_value,
        count(*) AS entrants,
        row_number() OVER (ORDER BY count(*) DESC, by_value NULLS LAST) AS value_rank
    FROM entrants
    WHERE counted AND $has_by
    GROUP BY by_value
),
segments AS (
    SELECT
        'total' AS scope, CAST(NULL AS VARCHAR) AS value, CAST(NULL AS BIGINT) AS value_rank,
        CAST(NULL AS BIGINT) AS member_rank, CAST(NULL AS TIMESTAMP) AS cohort, level, taus
    FROM entrants
    WHERE counted
    UNION ALL
    SELECT 'excluded', NULL, NULL, NULL, NULL, level, taus
    FROM funnel_users
    WHERE counted AND excluded
    UNION ALL
    SELECT
        CASE WHEN r.entrants < $min_group_size THEN 'by_suppressed'
             WHEN $by_limit = 0 OR r.value_rank <= $by_limit THEN 'by' ELSE 'by_other' END,
        CASE WHEN r.entrants >= $min_group_size AND ($by_limit = 0 OR r.value_rank <= $by_limit)
             THEN CAST(e.by_value AS VARCHAR) END,
        CASE WHEN r.entrants >= $min_group_size AND ($by_limit = 0 OR r.value_rank <= $by_limit)
             THEN r.value_rank END,
        r.value_rank,
        NULL,
        e.level,
        e.taus
    FROM entrants AS e
    JOIN value_ranks AS r ON e.by_value IS NOT DISTINCT FROM r.by_value
    WHERE e.counted
    UNION ALL
    SELECT 'trend', NULL, NULL, NULL, cohort, level, taus
    FROM entrants
    WHERE $has_trends
),
reached AS (
    SELECT
        s.scope,
        s.value,
        s.value_rank,
        s.member_rank,
        s.cohort,
        k.step,
        CASE WHEN k.step > 1 THEN (s.taus[k.step] - s.taus[k.step - 1]) / 1000000.0 END AS seconds,
        CASE WHEN k.step > 1 THEN s.taus[k.step] - s.taus[k.step - 1] END AS micros
    FROM segments AS s
    JOIN range(1, $n_steps + 1) AS k(step) ON k.step <= s.level
),
binned AS (
    SELECT *, {{ bin_lower }} AS bin_from_s
    FROM reached
)
SELECT
    scope,
    value,
    value_rank,
    cohort,
    step,
    bin_from_s,
    GROUPING(bin_from_s) = 0 AS is_bin,
    count(*) AS users,
    count(DISTINCT member_rank) AS groups,
    quantile_cont(seconds, 0.5) AS median_s,
    -- The mean from the exact integer sum of microseconds: a float sum would depend on thread scheduling.
    avg(micros) / 1000000.0 AS mean_s,
    quantile_cont(seconds, 0.9) AS p90_s
FROM binned
GROUP BY GROUPING SETS (
    (scope, value, value_rank, cohort, step),
    (scope, value, value_rank, cohort, step, bin_from_s)
)
ORDER BY scope, value NULLS LAST, cohort, step, bin_from_s
