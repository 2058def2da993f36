-- Writes the de-identified copy of an experiment assignments file to $target (Parquet, zstd), streaming.
-- $files: the assignment Parquet files; hive (template data) is chosen by the source
-- layer; the select_list fragment is built by anonymize.py (keyed-hash expression of user_id whose key is
-- bound as parameters, assigned_at as UTC, quoted identifiers of the kept columns).
COPY (
    SELECT
    {{ select_list }}
    FROM read_parquet($files, hive_partitioning = {{ "true" if hive else "false" }}, union_by_name = true)
) TO $target (FORMAT parquet, COMPRESSION zstd, USE_TMP_FILE false);
