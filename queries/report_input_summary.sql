-- Size and time span of the whole export (every row, ignoring the date range), for the report's
-- provenance appendix. Times are UTC; *_local in the configured reporting time zone.
SELECT
    count(*)                AS rows,
    count(DISTINCT user_id) AS users,
    min(event_time)         AS first_event_utc,
    max(event_time)         AS last_event_utc,
    min(local_time)         AS first_event_local,
    max(local_time)         AS last_event_local
FROM events_all;
