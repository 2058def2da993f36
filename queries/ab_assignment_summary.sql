-- Users per variant of ab_assigned; the row with a NULL variant counts users assigned to several variants.
-- first_needed/last_needed bound the event times any analysable user's metrics can read.
SELECT
    CASE WHEN variants = 1 THEN variant END AS variant,
    count(*)                                AS users,
    min(pre_start)                          AS first_needed,
    max(post_end)                           AS last_needed
FROM ab_assigned
GROUP BY CASE WHEN variants = 1 THEN variant END
ORDER BY variant NULLS LAST;
