-- Events inside the optional --from/--to range (inclusive local dates; NULL bound = open).
CREATE OR REPLACE VIEW events AS
SELECT *
FROM events_all
WHERE (getvariable('shortvid_from') IS NULL OR local_time >= getvariable('shortvid_from'))
  AND (getvariable('shortvid_to') IS NULL OR local_time < getvariable('shortvid_to'));
