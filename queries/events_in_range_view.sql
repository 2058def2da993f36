-- Events inside the optional --from/--to range (inclusive local dates; NULL bound = open).
-- The bounds are the UTC instants of the local midnights (set by source.py), so the filter reads
-- event_time and never converts a row's time zone.
CREATE OR REPLACE VIEW events AS
SELECT *
FROM events_all
WHERE (getvariable('shortvid_from') IS NULL OR event_time >= getvariable('shortvid_from'))
  AND (getvariable('shortvid_to') IS NULL OR event_time < getvariable('shortvid_to'));
