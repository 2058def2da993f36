-- Row count of each Parquet file, read from the file footers (no data scan). For the report's
-- provenance appendix.
-- $files: list of Parquet file paths.
SELECT file_name, num_rows
FROM parquet_file_metadata($files);
