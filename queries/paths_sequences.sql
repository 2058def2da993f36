-- User paths, stage 2: one row per path (from temp table path_steps) into temp table path_sequences.
-- events / repeats: the path's event names / run lengths in chronological order, joined by $separator
-- (a control character that does not occur in event names); converted: 0 or 1 (see paths_steps).
CREATE OR REPLACE TEMP TABLE path_sequences AS
SELECT
    user_id,
    path_key,
    string_agg(event_name, $separator ORDER BY step) AS events,
    string_agg(CAST(repeats AS VARCHAR), $separator ORDER BY step) AS repeats,
    max(converted) AS converted
FROM path_steps
GROUP BY user_id, path_key;
