-- Funnel: the events as the funnel sees them. Included as the relation `tagged` by funnel_best.sql,
-- funnel_unordered_times.sql and funnel_users.sql (a NOT MATERIALIZED CTE: every reference re-reads the
-- source with its own filters, so nothing the size of the events is held twice).
--
-- One row per event of the scanned span:
--   t             event time in microseconds since the Unix epoch (UTC)
--   mask          bit j-1 is set when the event matches step j (0: it matches no step)
--   step_rank     the lowest step the event matches ($n_steps + 1 when none): simultaneous events are taken
--                 in funnel order, events outside the funnel last
--   hold_value    the --hold property (NULL without --hold)
--   by_value      the --by property (NULL without --by)
--   cohort        start of the event's --trends period in local time (NULL without --trends)
--   in_range      the event lies in the --from/--to range (local dates), so it may start an attempt
--   is_exclusion  the event matches an --exclude selector
-- Fragments (built from the step selectors, quoted identifiers and bound values only): step_mask,
-- hold_value, by_value, cohort, exclusion; event_filter (TRUE, or a predicate on the events view keeping
-- only the events a query needs, written so that DuckDB pushes it into the Parquet scan).
-- Parameters: $n_steps; $date_from, $date_to_exclusive (local timestamps, NULL = open);
-- $scan_from, $scan_to (local timestamps, NULL = open): a generous prefilter, the entry range widened by
-- a day before and by the window plus a day after (events outside it can never play a part).
-- Rows without user, time or event name are ignored.
SELECT
    user_id,
    t,
    mask,
    -- lowest set bit of mask = lowest step matched
    CASE WHEN mask = 0 THEN $n_steps + 1 ELSE CAST(log2(mask & -mask) AS INTEGER) + 1 END AS step_rank,
    hold_value,
    by_value,
    cohort,
    in_range,
    is_exclusion
FROM (
    SELECT
        user_id,
        epoch_us(event_time) AS t,
        {{ step_mask }} AS mask,
        {{ hold_value }} AS hold_value,
        {{ by_value }} AS by_value,
        {{ cohort }} AS cohort,
        (CAST($date_from AS TIMESTAMP) IS NULL OR local_time >= CAST($date_from AS TIMESTAMP))
            AND (CAST($date_to_exclusive AS TIMESTAMP) IS NULL
                 OR local_time < CAST($date_to_exclusive AS TIMESTAMP)) AS in_range,
        {{ exclusion }} AS is_exclusion
    FROM events_all
    WHERE user_id IS NOT NULL
      AND event_time IS NOT NULL
      AND event_name IS NOT NULL
      AND (CAST($scan_from AS TIMESTAMP) IS NULL OR local_time >= CAST($scan_from AS TIMESTAMP))
      AND (CAST($scan_to AS TIMESTAMP) IS NULL OR local_time < CAST($scan_to AS TIMESTAMP))
      AND {{ event_filter }}
) AS scanned
