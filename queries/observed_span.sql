-- The time span an export observes: the wall-clock time, in the reporting time zone, of its first and
-- last event, given as $first and $last (naive UTC, from EventSource.event_time_bounds: the Parquet
-- statistics where they suffice, else a scan). Whole export, ignoring --from/--to: the caller clips to
-- the range.
-- Parameters: $tz = the reporting time zone (IANA name); $first, $last.
SELECT
    timezone($tz, timezone('UTC', CAST($first AS TIMESTAMP))) AS first_local,
    timezone($tz, timezone('UTC', CAST($last AS TIMESTAMP))) AS last_local;
