-- Canonical view of the export.
-- The select_list fragment holds one expression per canonical column (quoted source identifiers, casts,
-- time conversions and event-name aliases built by source.py) followed by the export's other
-- columns, kept as properties usable in filters and breakdowns.
CREATE OR REPLACE VIEW events_all AS
SELECT
    canonical.*,
    -- wall-clock time in the reporting time zone: the basis of every day/week/month boundary
    -- (UTC needs no conversion, and the per-row conversion is the costliest step of a scan)
    CASE
        WHEN getvariable('shortvid_tz') = 'UTC' THEN canonical.event_time
        ELSE timezone(getvariable('shortvid_tz'), timezone('UTC', canonical.event_time))
    END AS local_time
FROM (
    SELECT
        {{ select_list }}
    FROM raw_events
) AS canonical;
