-- One pass over the export checking what every analysis relies on (source.py refuses or drops what fails):
-- rows, NULLs in the required columns, rows lacking any of them, the first and last event time, event-time
-- text that does not parse, non-finite and negative revenue. Only when something fails does source.py read
-- further (which files hold the rows, how many rows lie outside the supported years).
-- Fragments (chosen by source.py from the export's column types, over raw_events' own column names):
--   event_time: the event-time column as an orderable value (the integer epoch itself, or the timestamp);
--     a typed NULL when its type is unusable;
--   event_time_raw, user_id, event_name: the names of the columns (quoted here);
--   unparsed: TRUE for a non-NULL event time that is not a timestamp (text that does not parse), else FALSE;
--   revenue: the revenue column as DOUBLE, or a typed NULL when the export has none.
SELECT
    count(*)                                                                AS rows,
    count(*) - count({{ event_time_raw | ident }})                                  AS null_event_time,
    count(*) - count({{ user_id | ident }})                                         AS null_user_id,
    count(*) - count({{ event_name | ident }})                                      AS null_event_name,
    count(*) FILTER (WHERE {{ event_time_raw | ident }} IS NULL OR {{ user_id | ident }} IS NULL
                     OR {{ event_name | ident }} IS NULL)                           AS incomplete,
    min({{ event_time }})                                                   AS first_time,
    max({{ event_time }})                                                   AS last_time,
    count(*) FILTER (WHERE {{ unparsed }})                                  AS unparsed_time,
    max(CAST({{ event_time_raw | ident }} AS VARCHAR)) FILTER (WHERE {{ unparsed }}) AS unparsed_example,
    count(*) FILTER (WHERE isnan({{ revenue }})
                     OR abs({{ revenue }}) = CAST('Infinity' AS DOUBLE))     AS nonfinite_revenue,
    max(CAST({{ revenue }} AS VARCHAR)) FILTER (WHERE isnan({{ revenue }})
                     OR abs({{ revenue }}) = CAST('Infinity' AS DOUBLE))     AS nonfinite_example,
    -- negative: finite and below zero (-inf is counted as non-finite)
    count(*) FILTER (WHERE {{ revenue }} < 0
                     AND {{ revenue }} > CAST('-Infinity' AS DOUBLE))        AS negative_revenue,
    min({{ revenue }}) FILTER (WHERE {{ revenue }} < 0
                     AND {{ revenue }} > CAST('-Infinity' AS DOUBLE))        AS lowest_revenue,
    max(CAST({{ event_name | ident }} AS VARCHAR)) FILTER (WHERE {{ revenue }} < 0
                     AND {{ revenue }} > CAST('-Infinity' AS DOUBLE))        AS negative_event
FROM raw_events;
