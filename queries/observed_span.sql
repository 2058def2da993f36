-- The time span an export observes: the wall-clock time, in the reporting time zone, of its first and
-- last event. Whole export (the events_all view), ignoring --from/--to: the caller clips to the range.
-- Converting the UTC extremes (rather than taking min/max of local_time) converts two values instead
-- of every row.
-- Parameters: $tz = the reporting time zone (IANA name).
SELECT
    timezone($tz, timezone('UTC', min(event_time))) AS first_local,
    timezone($tz, timezone('UTC', max(event_time))) AS last_local
FROM events_all;
