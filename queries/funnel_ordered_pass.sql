-- Funnel, --order ordered: one backward pass, included by funnel_ordered.sql for each step k = n-1 .. 1.
-- Every event able to play step k gets the times of the greedy chain that follows it: the first later event,
-- in canonical order within the same user and held value, able to play step k+1, then that event's own chain.
-- Fragments: step (k); bit, next_bit (mask bits of steps k and k+1); previous (the pass of step k+1, whose
-- events carry their chains); tau_columns (tau_2 .. tau_n); no_taus (the same as NULLs); next_chain
-- (first_value over the window `later` of the next step-(k+1) event's time and chain, as next_tau_m);
-- chain (tau_2 .. tau_n of this pass: NULL up to step k, then the next_tau_m or $unreachable);
-- user_partition (user_id, and hold_value with --hold); canonical_order (t, step_rank, mask, and by_value
-- with --by: the canonical order within a partition, keys that are constant left out).
pass_{{ step }} AS (
    SELECT
        user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range, role_mask,
        {{ chain }}
    FROM (
        SELECT
            *,
            {{ next_chain }}
        FROM (
            SELECT
                user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range, role_mask, {{ tau_columns }}
            FROM {{ previous }}
            UNION ALL
            SELECT
                user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range, role_mask, {{ no_taus }}
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
