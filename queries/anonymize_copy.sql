-- Writes the de-identified copy of the export (the events of the --from/--to range) to $target (Parquet,
-- zstd), streaming out-of-core. $target is already a temporary file (files.atomic_path), hence no
-- USE_TMP_FILE: DuckDB's own tmp_ copy would be a second file for a killed run to leave behind.
-- The select_list fragment is built by anonymize.py from canonical column names, keyed-hash
-- expressions whose key is bound as parameters, and quoted identifiers of kept property columns.
COPY (
    SELECT
    {{ select_list }}
    FROM events
) TO $target (FORMAT parquet, COMPRESSION zstd, USE_TMP_FILE false);
