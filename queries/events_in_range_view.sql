-- Events inside the optional --from/--to range (inclusive local dates).
-- Template data: bounds = none without a range, else comparisons of local_time with the session
-- variables shortvid_from / shortvid_to (the day after --to), so an absent bound costs nothing per row;
-- where the reporting zone keeps one UTC offset around a bound, event_time is compared with the bound's
-- UTC instant instead (the same rows, no conversion per row).
CREATE OR REPLACE VIEW events AS
SELECT *
FROM events_all
WHERE {{ bounds | join(" AND ") if bounds else "TRUE" }};
