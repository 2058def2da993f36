-- Funnel, --order ordered: the first of the backward passes (funnel_ordered.sql, funnel_ordered_sparse.sql),
-- included before the passes of funnel_ordered_pass.sql. Events able to play the last step: their chain
-- ends with them. Reads `roles` (the events with the steps they may play, role_mask).
-- Parameter: $last_bit (mask bit of the last step). Fragment: no_taus (tau_2 .. tau_n as NULLs).
pass_last AS (
    SELECT user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range, role_mask, {{ no_taus }}
    FROM roles
    WHERE role_mask & $last_bit <> 0
),
