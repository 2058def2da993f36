-- Canonical view of the export.
-- Template data: canonical = one expression per canonical column (quoted source identifiers, casts,
-- time conversions and event-name aliases built by source.py); properties = the export's other
-- columns, kept as properties usable in filters and breakdowns.
-- The complete fragment is TRUE, or the predicate keeping only rows whose required columns are all set
-- (source.py drops the others with a warning, so that no analysis meets a NULL time, user or event).
-- The local_time fragment is the wall-clock time in the reporting time zone, the basis of every
-- day/week/month boundary: event_time itself for UTC, else a conversion through the session
-- variable shortvid_tz.
CREATE OR REPLACE VIEW events_all AS
SELECT
    canonical.*,
    {{ local_time }} AS local_time
FROM (
    SELECT
{% for expression in canonical %}
        {{ expression }}{{ "," if not loop.last or properties else "" }}
{% endfor %}
{% for column in properties %}
        {{ column | ident }}{{ "," if not loop.last else "" }}
{% endfor %}
    FROM raw_events
    WHERE {{ complete }}
) AS canonical;
