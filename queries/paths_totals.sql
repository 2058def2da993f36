{% import "_macros.sql" as m %}
-- User paths: totals over every path (temp table path_sequences): paths, distinct users, distinct
-- sequences (of the key columns event_k, repeats_k, see paths_sequences), converted paths and distinct users
-- with a converted path; suppressed_paths / suppressed_sequences: the paths and sequences of the
-- sequences with fewer than $min_group_size distinct users (small-cell suppression, docs/privacy.md).
WITH per_sequence AS (
    SELECT count(*) AS paths, count(DISTINCT user_id) AS users
    FROM path_sequences
    GROUP BY {{ m.step_keys(steps) }}
)
SELECT
    count(*) AS paths,
    count(DISTINCT user_id) AS users,
    (SELECT count(*) FROM per_sequence) AS sequences,
    CAST(coalesce(sum(converted), 0) AS BIGINT) AS converted_paths,
    count(DISTINCT CASE WHEN converted = 1 THEN user_id END) AS converted_users,
    (SELECT CAST(coalesce(sum(paths), 0) AS BIGINT) FROM per_sequence WHERE users < $min_group_size)
        AS suppressed_paths,
    (SELECT count(*) FROM per_sequence WHERE users < $min_group_size) AS suppressed_sequences
FROM path_sequences;
