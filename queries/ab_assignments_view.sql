-- The experiment assignments file(s) as they are (experiment_id, user_id, variant, assigned_at, ...).
-- The file list is bound through the session variable `shortvid_ab_files` (views cannot take parameters).
-- Template data: hive, chosen by the source layer (folder or glob: read hive partitions).
CREATE OR REPLACE TEMP VIEW ab_assignments_raw AS
SELECT *
FROM read_parquet(getvariable('shortvid_ab_files'), hive_partitioning = {{ "true" if hive else "false" }}, union_by_name = true);
