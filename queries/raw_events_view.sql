-- The export as it is: every file of the source, columns under their own names.
-- The file list is bound through the session variable `shortvid_files` (views cannot take parameters).
-- Template data: hive, chosen by the source layer (folder or glob: read hive partitions).
CREATE OR REPLACE VIEW raw_events AS
SELECT *
FROM read_parquet(getvariable('shortvid_files'), hive_partitioning = {{ "true" if hive else "false" }}, union_by_name = true);
