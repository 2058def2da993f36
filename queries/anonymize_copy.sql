-- Writes the de-identified copy of the export (the events of the --from/--to range) to $target (Parquet,
-- zstd), streaming out-of-core.
-- The select_list fragment is built by anonymize.py from canonical column names, keyed-hash
-- expressions whose key is bound as parameters, and quoted identifiers of kept property columns.
COPY (
    SELECT
    {{ select_list }}
    FROM events
) TO $target (FORMAT parquet, COMPRESSION zstd);
