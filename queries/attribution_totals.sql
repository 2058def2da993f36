-- Attribution: totals over all conversions (temp tables attribution_conversions and
-- attribution_credits), split by whether a conversion received credit: attributed_* sum the orders
-- and revenue of the credited conversions whole (not weighted), so the per-group credited sums of
-- attribution_groups must add up to them.
-- orders_kpi: the KPI count (distinct order_id plus conversions without one), to check order_share;
-- credit_sum_error: the largest |sum of a credited conversion's credits - 1| (0 up to rounding).
-- Sums of doubles use fsum (compensated summation) so that results do not depend on thread scheduling;
-- on engines without it, sum gives the same numbers up to the last bits.
WITH per_conversion AS (
    SELECT conversion_id, fsum(credit) AS credit
    FROM attribution_credits
    GROUP BY conversion_id
)
SELECT
    count(*) AS conversions,
    coalesce(fsum(c.order_share), 0.0) AS orders,
    count(DISTINCT c.order_id) + count(*) FILTER (WHERE c.order_id IS NULL) AS orders_kpi,
    coalesce(fsum(c.revenue), 0.0) AS gmv,
    count(p.conversion_id) AS attributed_conversions,
    coalesce(fsum(CASE WHEN p.conversion_id IS NOT NULL THEN c.order_share END), 0.0) AS attributed_orders,
    coalesce(fsum(CASE WHEN p.conversion_id IS NOT NULL THEN c.revenue END), 0.0) AS attributed_gmv,
    count(*) - count(p.conversion_id) AS unattributed_conversions,
    coalesce(fsum(CASE WHEN p.conversion_id IS NULL THEN c.order_share END), 0.0) AS unattributed_orders,
    coalesce(fsum(CASE WHEN p.conversion_id IS NULL THEN c.revenue END), 0.0) AS unattributed_gmv,
    coalesce(max(abs(p.credit - 1.0)), 0.0) AS credit_sum_error
FROM attribution_conversions AS c
LEFT JOIN per_conversion AS p ON p.conversion_id = c.conversion_id;
