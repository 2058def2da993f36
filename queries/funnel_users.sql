-- Funnel: funnel_best with the exclusion and counting flags, into the temporary table funnel_users.
--
-- excluded: the user did an --exclude event strictly after the entry of this attempt and strictly before
--           its last completed step (any event of the user, whatever its held value); the user is then left
--           out of the funnel (of this cohort, for --trends rows).
-- counted:  this row is the user's counted attempt over the whole date range (with --trends a user has a
--           row per entry cohort; the overall funnel uses the best of them).
-- Reads `tagged` (funnel_events.sql) for the exclusion events. The exclusion test is a join rather than
-- an EXISTS subquery in the select list, which Spark does not accept (funnel_best has one row per
-- user and cohort).
CREATE OR REPLACE TEMP TABLE funnel_users AS
WITH
tagged AS NOT MATERIALIZED (
    {{ funnel_events }}
),
exclusions AS (
    SELECT user_id, t FROM tagged WHERE is_exclusion
),
excluded_attempts AS (
    SELECT DISTINCT b.user_id, b.cohort
    FROM funnel_best AS b
    JOIN exclusions AS x
      ON x.user_id = b.user_id AND x.t > b.entry_t AND x.t < b.taus[b.level]
)
SELECT
    b.user_id,
    b.cohort,
    b.level,
    b.by_value,
    b.taus,
    e.user_id IS NOT NULL AS excluded,
    row_number() OVER (PARTITION BY b.user_id ORDER BY b.sort_key) = 1 AS counted
FROM funnel_best AS b
LEFT JOIN excluded_attempts AS e
  ON e.user_id = b.user_id AND e.cohort IS NOT DISTINCT FROM b.cohort
