{% import "_macros.sql" as m %}
-- Funnel, --order ordered: the first of the backward passes (funnel_ordered.sql, funnel_ordered_sparse.sql),
-- rendered before the passes of funnel_ordered_pass.sql. Events able to play the last step: their chain
-- ends with them. Reads `roles` (the events with the steps they may play, role_mask).
-- Parameter: $last_bit (mask bit of the last step). Template data: n (the number of steps).
pass_last AS (
    SELECT user_id, cohort, t, step_rank, mask, hold_value, by_value, in_range, role_mask, {{ m.no_taus(n) }}
    FROM roles
    WHERE role_mask & $last_bit <> 0
),
