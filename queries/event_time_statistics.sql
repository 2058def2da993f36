-- The smallest and largest value of the export's event-time column, read from the Parquet footers'
-- row-group statistics instead of the data (source.py uses it only when event_time is that column's
-- timestamp unchanged). usable is false when some row group holding values lacks exact statistics;
-- the caller then scans.
-- Parameters: $files (the Parquet files), $column (the export's name of the event-time column).
-- Fragment (chosen by source.py): stats_type = TIMESTAMPTZ or TIMESTAMP, the column's type.
SELECT
    min(TRY_CAST(stats_min_value AS {{ stats_type }})) AS first_time,
    max(TRY_CAST(stats_max_value AS {{ stats_type }})) AS last_time,
    -- every row group is all nulls or has exact statistics of this type (files may differ in type)
    coalesce(bool_and(
        coalesce(stats_null_count, -1) = num_values
        OR (TRY_CAST(stats_min_value AS {{ stats_type }}) IS NOT NULL
            AND TRY_CAST(stats_max_value AS {{ stats_type }}) IS NOT NULL
            AND coalesce(min_is_exact, true) AND coalesce(max_is_exact, true))
    ), false) AS usable
FROM parquet_metadata($files)
WHERE path_in_schema = $column;
