{% import "_macros.sql" as m %}
-- User paths: the $top most frequent sequences (temp table path_sequences), most paths first.
-- The key columns are event_k, repeats_k for k = 1..--steps (see paths_sequences).
-- paths: paths with this sequence; users: distinct users with at least one such path;
-- converted_paths / converted_users: the same restricted to converted paths.
-- Ties are broken by users, then by the key columns in order (a missing step first), so the ranking
-- is deterministic. Sequences of fewer than $min_group_size distinct users are never listed (small-cell
-- suppression, docs/privacy.md; paths_totals.sql sums them).
SELECT
    {{ m.step_keys(steps) }},
    count(*) AS paths,
    count(DISTINCT user_id) AS users,
    CAST(sum(converted) AS BIGINT) AS converted_paths,
    count(DISTINCT CASE WHEN converted = 1 THEN user_id END) AS converted_users
FROM path_sequences
GROUP BY {{ m.step_keys(steps) }}
HAVING count(DISTINCT user_id) >= $min_group_size
ORDER BY paths DESC, users DESC, {{ m.step_keys(steps, " NULLS FIRST") }}
LIMIT $top;
