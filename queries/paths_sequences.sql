-- User paths, stage 3: one row per path (temp table path_steps) into temp table path_sequences.
-- The steps are pivoted into columns event_k / repeats_k, k = 1..--steps counted from the anchor (NULL
-- beyond the path's length; step_params: the placeholders of the parameters holding k); converted: 0 or 1
-- (see paths_walk).
CREATE OR REPLACE TEMP TABLE path_sequences AS
SELECT
    path_id,
    user_id,
    max(converted) AS converted,
{% for at_k in step_params %}
    max(CASE WHEN abs(step) = {{ at_k }} THEN event_name END) AS {{ ("event_" ~ loop.index) | ident }},
    max(CASE WHEN abs(step) = {{ at_k }} THEN repeats END) AS {{ ("repeats_" ~ loop.index) | ident }}{{ "," if not loop.last else "" }}
{% endfor %}
FROM path_steps
GROUP BY path_id, user_id;
