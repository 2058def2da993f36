{% import "_macros.sql" as m %}
{% set bit, next_bit = 2 ** (k - 1), 2 ** k %}
-- Funnel, --order ordered: one backward pass, rendered by funnel_ordered.sql for each step k = n-1 .. 1.
-- Every event able to play step k gets the times of the greedy chain that follows it: the first later event,
-- in canonical order within the same user and held value, able to play step k+1, then that event's own chain.
-- Template data: k (this step), n (the number of steps), previous (the pass of step k+1, whose events carry
-- their chains), user_partition (user_id, and hold_value with --hold), canonical_order (t, step_rank, mask,
-- and by_value with --by: the canonical order within a partition, keys that are constant left out).
-- Mask bits: step k is {{ bit }}, step k+1 is {{ next_bit }}. next_tau_m: first_value over the window
-- `later` of the next step-(k+1) event's time and chain; tau_m of this pass: NULL up to step k, then the
-- next_tau_m or $unreachable.
pass_{{ k }} AS (
    SELECT
        user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range, role_mask,
{% for j in range(2, n + 1) %}
{% if j <= k %}
        CAST(NULL AS BIGINT) AS tau_{{ j }}{{ "," if not loop.last else "" }}
{% else %}
        coalesce(next_tau_{{ j }}, $unreachable) AS tau_{{ j }}{{ "," if not loop.last else "" }}
{% endif %}
{% endfor %}
    FROM (
        SELECT
            *,
{% for j in range(k + 1, n + 1) %}
            first_value(CASE WHEN role_mask & {{ next_bit }} <> 0 THEN {{ "t" if j == k + 1 else "tau_" ~ j }} END IGNORE NULLS) OVER later AS next_tau_{{ j }}{{ "," if not loop.last else "" }}
{% endfor %}
        FROM (
            SELECT
                user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range, role_mask,
                {{ m.taus(n) }}
            FROM {{ previous }}
            UNION ALL
            SELECT
                user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range, role_mask, {{ m.no_taus(n) }}
            FROM roles
            WHERE role_mask & {{ bit }} <> 0 AND role_mask & {{ next_bit }} = 0
        ) AS candidates
        WINDOW later AS (
            PARTITION BY {{ user_partition }}
            ORDER BY {{ canonical_order }}
            ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        )
    ) AS linked
    WHERE role_mask & {{ bit }} <> 0
),
