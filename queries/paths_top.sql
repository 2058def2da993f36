-- User paths: the $top most frequent sequences (temp table path_sequences), most paths first.
-- paths: paths with this sequence; users: distinct users with at least one such path;
-- converted_paths / converted_users: the same restricted to converted paths.
-- Ties are broken by users, then by the sequence text, so the ranking is deterministic.
SELECT
    events,
    repeats,
    count(*) AS paths,
    count(DISTINCT user_id) AS users,
    CAST(sum(converted) AS BIGINT) AS converted_paths,
    count(DISTINCT CASE WHEN converted = 1 THEN user_id END) AS converted_users
FROM path_sequences
GROUP BY events, repeats
ORDER BY paths DESC, users DESC, events, repeats
LIMIT $top;
