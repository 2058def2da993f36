-- [1] raw_events_view (queries/raw_events_view.sql)
-- The export as it is: every file of the source, columns under their own names.
-- The file list is bound through the session variable `shortvid_files` (views cannot take parameters).
-- Template data: hive, chosen by the source layer (folder or glob: read hive partitions).
CREATE OR REPLACE VIEW raw_events AS
SELECT *
FROM read_parquet(getvariable('shortvid_files'), hive_partitioning = true, union_by_name = true);

-- [2] source_checks (queries/source_checks.sql)
-- One pass over the export checking what every analysis relies on (source.py refuses or drops what fails):
-- rows, NULLs in the required columns, rows lacking any of them, the first and last event time, event-time
-- text that does not parse, non-finite and negative revenue. Only when something fails does source.py read
-- further (which files hold the rows, how many rows lie outside the supported years).
-- Fragments (chosen by source.py from the export's column types, over raw_events' own column names):
--   event_time: the event-time column as an orderable value (the integer epoch itself, or the timestamp);
--     a typed NULL when its type is unusable;
--   event_time_raw, user_id, event_name: the names of the columns (quoted here);
--   unparsed: TRUE for a non-NULL event time that is not a timestamp (text that does not parse), else FALSE;
--   revenue: the revenue column as DOUBLE, or a typed NULL when the export has none.
SELECT
    count(*)                                                                AS rows,
    count(*) - count("event_time")                                  AS null_event_time,
    count(*) - count("user_id")                                         AS null_user_id,
    count(*) - count("event_name")                                      AS null_event_name,
    count(*) FILTER (WHERE "event_time" IS NULL OR "user_id" IS NULL
                     OR "event_name" IS NULL)                           AS incomplete,
    min(epoch_us("event_time"))                                                   AS first_time,
    max(epoch_us("event_time"))                                                   AS last_time,
    count(*) FILTER (WHERE FALSE)                                  AS unparsed_time,
    max(CAST("event_time" AS VARCHAR)) FILTER (WHERE FALSE) AS unparsed_example,
    count(*) FILTER (WHERE isnan(CAST("revenue" AS DOUBLE))
                     OR abs(CAST("revenue" AS DOUBLE)) = CAST('Infinity' AS DOUBLE))     AS nonfinite_revenue,
    max(CAST(CAST("revenue" AS DOUBLE) AS VARCHAR)) FILTER (WHERE isnan(CAST("revenue" AS DOUBLE))
                     OR abs(CAST("revenue" AS DOUBLE)) = CAST('Infinity' AS DOUBLE))     AS nonfinite_example,
    -- negative: finite and below zero (-inf is counted as non-finite)
    count(*) FILTER (WHERE CAST("revenue" AS DOUBLE) < 0
                     AND CAST("revenue" AS DOUBLE) > CAST('-Infinity' AS DOUBLE))        AS negative_revenue,
    min(CAST("revenue" AS DOUBLE)) FILTER (WHERE CAST("revenue" AS DOUBLE) < 0
                     AND CAST("revenue" AS DOUBLE) > CAST('-Infinity' AS DOUBLE))        AS lowest_revenue,
    max(CAST("event_name" AS VARCHAR)) FILTER (WHERE CAST("revenue" AS DOUBLE) < 0
                     AND CAST("revenue" AS DOUBLE) > CAST('-Infinity' AS DOUBLE))        AS negative_event
FROM raw_events;

-- [3] events_view (queries/events_view.sql)
-- Canonical view of the export.
-- Template data: canonical = one expression per canonical column (quoted source identifiers, casts,
-- time conversions and event-name aliases built by source.py); properties = the export's other
-- columns, kept as properties usable in filters and breakdowns.
-- The complete fragment is TRUE, or the predicate keeping only rows whose required columns are all set
-- (source.py drops the others with a warning, so that no analysis meets a NULL time, user or event).
-- The local_time fragment is the wall-clock time in the reporting time zone, the basis of every
-- day/week/month boundary: event_time itself for UTC, else a conversion through the session
-- variable shortvid_tz.
CREATE OR REPLACE VIEW events_all AS
SELECT
    canonical.*,
    canonical.event_time AS local_time
FROM (
    SELECT
        make_timestamp(epoch_us("event_time")) AS event_time,
        "user_id" AS user_id,
        CAST("event_name" AS VARCHAR) AS event_name,
        "session_id" AS session_id,
        "video_id" AS video_id,
        "creator_id" AS creator_id,
        "product_id" AS product_id,
        "order_id" AS order_id,
        CAST("revenue" AS DOUBLE) AS revenue,
        CAST("watch_time_s" AS DOUBLE) AS watch_time_s,
        "platform" AS platform,
        "traffic_source" AS traffic_source,
        "device" AS device,
        "region" AS region,
        "dt"
    FROM raw_events
    WHERE TRUE
) AS canonical;

-- [4] events_in_range_view (queries/events_in_range_view.sql)
-- Events inside the optional --from/--to range (inclusive local dates).
-- Template data: bounds = none without a range, else comparisons of local_time with the session
-- variables shortvid_from / shortvid_to (the day after --to), so an absent bound costs nothing per row;
-- where the reporting zone keeps one UTC offset around a bound, event_time is compared with the bound's
-- UTC instant instead (the same rows, no conversion per row).
CREATE OR REPLACE VIEW events AS
SELECT *
FROM events_all
WHERE TRUE;

-- [5] kpi_events_view (queries/kpi_events_view.sql)
-- The event-level ingredients of every KPI (definitions: docs/kpi.md, the KPI table of the product README).
-- One row per row of `events`, with marker columns that are NULL unless the event counts towards an
-- ingredient: count(marker) is a number of events, count(DISTINCT id_marker) a number of users or orders,
-- sum(value_marker) a sum. engagement.sql and kpi_periods.sql only add these markers up; what counts as a
-- view, an order or GMV is decided here and nowhere else. Every event is attributed by its own row: its own
-- time and its own video_id / creator_id / product_id / platform / traffic_source (refunds included).
-- Money and watch time are summed as DECIMAL(38, 6): exact sums do not depend on the order in which
-- threads add them up, so the same input always gives the same digits.
CREATE OR REPLACE TEMP VIEW kpi_events AS
SELECT
    e.*,
    CASE WHEN e.event_name = 'video_view' THEN 1 END                             AS view_event,
    CASE WHEN e.event_name = 'video_view' THEN e.user_id END                     AS viewer_id,
    CASE WHEN e.event_name = 'video_view' THEN CAST(e.watch_time_s AS DECIMAL(38, 6)) END AS view_watch_time_s,
    CASE WHEN e.event_name = 'video_complete' THEN 1 END                         AS complete_event,
    CASE WHEN e.event_name = 'like' THEN 1 END                                   AS like_event,
    CASE WHEN e.event_name = 'comment' THEN 1 END                                AS comment_event,
    CASE WHEN e.event_name = 'share' THEN 1 END                                  AS share_event,
    CASE WHEN e.event_name = 'product_click' THEN 1 END                          AS click_event,
    CASE WHEN e.event_name = 'purchase' THEN e.user_id END                       AS purchaser_id,
    -- orders: distinct order_id of purchases, plus each purchase without an order_id counted once
    CASE WHEN e.event_name = 'purchase' THEN e.order_id END                      AS purchase_order_id,
    CASE WHEN e.event_name = 'purchase' AND e.order_id IS NULL THEN 1 END        AS unidentified_purchase,
    CASE WHEN e.event_name = 'purchase' THEN CAST(e.revenue AS DECIMAL(38, 6)) END AS purchase_revenue,
    -- refunded orders: distinct order_id of refunds, plus each refund without an order_id counted once
    CASE WHEN e.event_name = 'refund' THEN e.order_id END                        AS refund_order_id,
    CASE WHEN e.event_name = 'refund' AND e.order_id IS NULL THEN 1 END          AS unidentified_refund,
    CASE WHEN e.event_name = 'refund' THEN CAST(e.revenue AS DECIMAL(38, 6)) END   AS refund_revenue,
    CASE WHEN e.event_name IN ('purchase', 'refund') THEN 1 END                  AS commerce_event
FROM events AS e;

-- [6] kpi_periods (queries/kpi_periods.sql)
-- KPI ingredients per calendar period over grouping sets of (day | week | month [, breakdown columns]),
-- plus the commerce ingredients per (period, mover column) for the digest's GMV movers.
--
-- One pass over the events, and no DISTINCT aggregate over anything large (DuckDB runs the DISTINCT
-- aggregates of grouping sets as one hash table per set and aggregate, each fed every input row):
--   user_days     per (user, local day, breakdown values, order, mover values) the ingredients that add
--                 events up (kpi.EVENT_SUMS and kpi.COMMERCE_SUMS) and the purchase / refund events
--                 carrying the row's order id; order and mover values are NULL except on purchase and
--                 refund events, so there is about one row per user and day;
--   sums          the event ingredients of every grouping set (small tables: one row per set and keys);
--   users         viewers and active users per grouping set as plain counts of one row per (user, period,
--                 breakdown values), with the user's views (a NULL user_id is no user);
--   commerce      purchasers, orders, GMV, refunded orders and refunded revenue per grouping set and per
--                 (period, mover column), and the distinct users of a mover value (its active_users), over
--                 the user_days rows with purchase or refund events only: a small share of the rows.
-- One row per (grouping set, keys). grouping_id is the GROUPING() bit mask over (day, week, month,
-- breakdown columns, mover columns), bit 1 = not grouped, the first column most significant. Mover rows
-- carry the commerce ingredients and active_users only (NULL elsewhere).
-- Template data (kpi.py): grain = the breakdown columns with their aliases g0, g1, ...; movers = the mover
-- columns with their aliases m0, m1, ... (both may be empty); sets = the breakdown grouping sets of
-- aliases, e.g. [day], [week, g0]; mover_sets = the mover sets, e.g. [week, m0]; day_expr = the local day
-- of an event, week_expr / month_expr = the period start of a `day` (periods.py); event_sums /
-- commerce_sums = the ingredients of kpi.py (name, aggregate). mover_scale = 2 to the number of mover
-- columns, mover_mask = mover_scale - 1 (the low grouping_id bits of a set without a mover column).
WITH
user_days AS (
    SELECT
        user_id, day , g0, order_key 
        ,
        count(view_event) AS views,
        count(like_event) AS likes,
        count(comment_event) AS comments,
        count(share_event) AS shares,
        count(complete_event) AS completes,
        count(click_event) AS clicks,
        sum(view_watch_time_s) AS watch_time_s_sum,
        count(view_watch_time_s) AS watch_time_s_n
        ,
        count(unidentified_purchase) FILTER (WHERE commerce_event IS NOT NULL) AS unidentified_purchases,
        sum(purchase_revenue) FILTER (WHERE commerce_event IS NOT NULL) AS gmv,
        count(unidentified_refund) FILTER (WHERE commerce_event IS NOT NULL) AS unidentified_refunds,
        sum(refund_revenue) FILTER (WHERE commerce_event IS NOT NULL) AS refund_revenue,
        count(purchase_order_id) FILTER (WHERE commerce_event IS NOT NULL) AS purchase_orders,
        count(refund_order_id) FILTER (WHERE commerce_event IS NOT NULL)   AS refund_orders
    FROM (
        SELECT
            kpi_events.*,
            CAST(date_trunc('day', local_time) AS DATE)                                 AS day,
            coalesce(purchase_order_id, refund_order_id)   AS order_key
, "platform" AS g0

        FROM kpi_events
    ) AS keyed
    GROUP BY user_id, day , g0, order_key 
),
dated AS (
    SELECT user_days.*, CAST(date_trunc('week', day) AS DATE) AS week, CAST(date_trunc('month', day) AS DATE) AS month
    FROM user_days
),
sums AS (
    SELECT
        day, week, month , g0,
        GROUPING(day, week, month , g0) * 1 + 0 AS grouping_id
        ,
        sum(views) AS views,
        sum(likes) AS likes,
        sum(comments) AS comments,
        sum(shares) AS shares,
        sum(completes) AS completes,
        sum(clicks) AS clicks,
        sum(watch_time_s_sum) AS watch_time_s_sum,
        sum(watch_time_s_n) AS watch_time_s_n
    FROM dated
    GROUP BY GROUPING SETS ((day, g0), (week, g0), (month, g0))
),
users AS (
    SELECT
        grouping_id, day, week, month , g0,
        count(CASE WHEN views > 0 THEN user_id END) AS viewers,
        count(user_id)                              AS active_users
    FROM (
        SELECT
            day, week, month , g0,
            GROUPING(day, week, month , g0) * 1 + 0 AS grouping_id,
            user_id,
            max(views) AS views
        FROM dated
        GROUP BY GROUPING SETS ((day, g0, user_id), (week, g0, user_id), (month, g0, user_id))
    ) AS user_periods
    GROUP BY grouping_id, day, week, month , g0
),
commerce AS (
    SELECT
        day, week, month , g0 ,
        GROUPING(day, week, month , g0 ) AS grouping_id,
        count(DISTINCT CASE WHEN purchase_orders + unidentified_purchases > 0 THEN user_id END) AS purchasers,
        count(DISTINCT CASE WHEN purchase_orders > 0 THEN order_key END) + sum(unidentified_purchases) AS orders,
        coalesce(sum(gmv), 0)                                                                  AS gmv,
        count(DISTINCT CASE WHEN refund_orders > 0 THEN order_key END) + sum(unidentified_refunds) AS refunded_orders,
        coalesce(sum(refund_revenue), 0)                                                       AS refund_revenue,
        count(DISTINCT user_id)                                                                AS users
    FROM dated
    WHERE purchase_orders + unidentified_purchases + refund_orders + unidentified_refunds > 0
    GROUP BY GROUPING SETS ((day, g0), (week, g0), (month, g0))
)
SELECT
    s.day, s.week, s.month , s.g0 , s.grouping_id
    ,
        s.views AS views,
        s.likes AS likes,
        s.comments AS comments,
        s.shares AS shares,
        s.completes AS completes,
        s.clicks AS clicks,
        s.watch_time_s_sum AS watch_time_s_sum,
        s.watch_time_s_n AS watch_time_s_n,
    u.viewers,
    u.active_users,
    coalesce(c.purchasers, 0)      AS purchasers,
    coalesce(c.orders, 0)          AS orders,
    coalesce(c.gmv, 0)             AS gmv,
    coalesce(c.refunded_orders, 0) AS refunded_orders,
    coalesce(c.refund_revenue, 0)  AS refund_revenue
FROM sums AS s
JOIN users AS u ON u.grouping_id = s.grouping_id AND u."day" IS NOT DISTINCT FROM s."day" AND u."week" IS NOT DISTINCT FROM s."week" AND u."month" IS NOT DISTINCT FROM s."month" AND u."g0" IS NOT DISTINCT FROM s."g0"
LEFT JOIN commerce AS c ON c.grouping_id = s.grouping_id AND c."day" IS NOT DISTINCT FROM s."day" AND c."week" IS NOT DISTINCT FROM s."week" AND c."month" IS NOT DISTINCT FROM s."month" AND c."g0" IS NOT DISTINCT FROM s."g0"
UNION ALL
SELECT
    day, week, month , g0 , grouping_id
    ,
        NULL AS views,
        NULL AS likes,
        NULL AS comments,
        NULL AS shares,
        NULL AS completes,
        NULL AS clicks,
        NULL AS watch_time_s_sum,
        NULL AS watch_time_s_n,
    NULL  AS viewers,
    users AS active_users,
    purchasers, orders, gmv, refunded_orders, refund_revenue
FROM commerce
WHERE grouping_id % 1 <> 0;
