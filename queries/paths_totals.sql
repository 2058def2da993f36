-- User paths: totals over every path (temp table path_sequences): paths, distinct users, distinct
-- sequences (the key_columns fragment, see paths_sequences), converted paths and distinct users
-- with a converted path.
SELECT
    count(*) AS paths,
    count(DISTINCT user_id) AS users,
    (SELECT count(*) FROM (SELECT DISTINCT {{ key_columns }} FROM path_sequences) AS distinct_sequences)
        AS sequences,
    CAST(coalesce(sum(converted), 0) AS BIGINT) AS converted_paths,
    count(DISTINCT CASE WHEN converted = 1 THEN user_id END) AS converted_users
FROM path_sequences;
