{% import "_macros.sql" as m %}
{% set conversion_predicate = m.selector(conversion, "e") %}
-- Attribution, stage 1: the conversions to attribute, into temp table attribution_conversions.
-- One row per event in the date range matching the conversion selector
-- (the selector macro over alias e) with a user and a time.
-- revenue: the event's revenue (NULL counts as 0);
-- order_share: 1 / (conversion events of the same order_id in this table); a conversion without
--   order_id is an order by itself. Summed over all rows it gives the KPI "orders" (distinct order_id,
--   plus each purchase without one); an order split over several events is credited part by part.
-- own_group: the conversion event's own value of the --by column (fragment by_column), as text; the
--   "platform" model credits it.
-- Template data: by (the credited column), own_group (the conversion's own `by` value is its group: --model
-- platform), same_product (the conversion's product_id is matched). Columns the analysis does not use are
-- NULL constants: a column not read is a column not decompressed, and
-- reading them cost more than the rest of this scan of all events.
CREATE OR REPLACE TEMP TABLE attribution_conversions AS
WITH conversions AS (
    SELECT
        -- any unique number: an ORDER BY makes the numbering a parallel sort of the few conversions
        -- after a parallel scan, where OVER () would number the rows in one thread as they stream by
        row_number() OVER (ORDER BY e.user_id, e.event_time) AS conversion_id,
        e.user_id,
        e.event_time,
        {{ "e.product_id" if same_product else "CAST(NULL AS VARCHAR)" }} AS product_id,
        e.order_id,
        coalesce(e.revenue, 0.0) AS revenue,
        CAST({{ "e." ~ (by | ident) if own_group else "NULL" }} AS VARCHAR) AS own_group
    FROM events AS e
    WHERE {{ conversion_predicate }}
      AND e.user_id IS NOT NULL
      AND e.event_time IS NOT NULL
)
SELECT
    conversion_id,
    user_id,
    event_time,
    product_id,
    order_id,
    revenue,
    own_group,
    1.0 / count(*) OVER (
        PARTITION BY order_id, CASE WHEN order_id IS NULL THEN conversion_id END
    ) AS order_share
FROM conversions;
