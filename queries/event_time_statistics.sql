-- The smallest and largest value of the export's event-time column, read from the Parquet footers'
-- row-group statistics instead of the data (source.py uses it only when event_time is that column's
-- timestamp unchanged). usable is false when some row group holding values lacks exact statistics;
-- the caller then scans.
-- in_range: some row group's smallest or largest value (each the time of a real row) lies in
-- [$start, $end), so that range holds an event; meets_range: some row group's [min, max] meets the
-- range at all (when none does, the range holds no event). Both false when $start/$end are NULL.
-- Parameters: $files (the Parquet files), $column (the export's name of the event-time column),
-- $start/$end (naive UTC instants, or NULL).
-- Fragment (chosen by source.py): stats_type = TIMESTAMPTZ or TIMESTAMP, the column's type.
WITH row_groups AS (
    SELECT
        TRY_CAST(stats_min_value AS {{ stats_type }}) AS low,
        TRY_CAST(stats_max_value AS {{ stats_type }}) AS high,
        coalesce(stats_null_count, -1) = num_values AS all_null,
        coalesce(min_is_exact, true) AND coalesce(max_is_exact, true) AS exact
    FROM parquet_metadata($files)
    WHERE path_in_schema = $column
)
SELECT
    min(low) AS first_time,
    max(high) AS last_time,
    -- every row group is all nulls or has exact statistics of this type (files may differ in type)
    coalesce(bool_and(all_null OR (low IS NOT NULL AND high IS NOT NULL AND exact)), false) AS usable,
    coalesce(bool_or((low >= $start AND low < $end) OR (high >= $start AND high < $end)), false) AS in_range,
    coalesce(bool_or(high >= $start AND low < $end), false) AS meets_range
FROM row_groups;
