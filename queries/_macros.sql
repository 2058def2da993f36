{#- Macros shared by the query templates: `{% import "_macros.sql" as m %}`. Each renders a piece of SQL
    from data (step numbers, flags); none takes SQL text. -#}

{#- tau_2 .. tau_n of an n-step funnel as typed NULLs: the chain columns of a row that starts no chain. -#}
{% macro no_taus(n) -%}
{% for m in range(2, n + 1) %}CAST(NULL AS BIGINT) AS tau_{{ m }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endmacro %}

{#- tau_2 .. tau_n: the chain columns. -#}
{% macro taus(n) -%}
{% for m in range(2, n + 1) %}tau_{{ m }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endmacro %}

{#- The backward passes of the ordered funnel: pass_last (funnel_ordered_last.sql), then one
    funnel_ordered_pass.sql for each step k = n-1 .. lowest; pass_k reads pass_(k+1), the first reads
    pass_last; with lowest = n, pass_n is pass_last itself. -#}
{% macro ordered_passes(n, lowest, user_partition, canonical_order) -%}
{{ partial("funnel_ordered_last", n=n) }}
{% if lowest == n %}
pass_{{ n }} AS (SELECT * FROM pass_last),
{% else %}
{% for k in range(n - 1, lowest - 1, -1) %}
{{ partial("funnel_ordered_pass", k=k, n=n, previous="pass_last" if k == n - 1 else "pass_" ~ (k + 1),
           user_partition=user_partition, canonical_order=canonical_order) }}
{% endfor %}
{% endif %}
{%- endmacro %}

{#- The quoted columns, comma-separated, each behind `prefix` (a table alias and a dot). -#}
{% macro columns_of(columns, prefix="") -%}
{% for c in columns %}{{ prefix }}{{ c | ident }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endmacro %}

{#- `left.k IS NOT DISTINCT FROM right.k AND ...` over the (quoted) columns: rows of two aggregates of the
    same groups match, a missing key value included. -#}
{% macro same_keys(left, right, columns) -%}
{% for c in columns %}{{ left }}.{{ c | ident }} IS NOT DISTINCT FROM {{ right }}.{{ c | ident }}{% if not loop.last %} AND {% endif %}{% endfor %}
{%- endmacro %}

{#- Select-list items `, <item> AS <ingredient>` of the additive ingredients (kpi.EVENT_SUMS,
    kpi.COMMERCE_SUMS: pairs of name and aggregate over kpi_events). `form` says what each item is: the
    aggregate itself, sum(<ingredient>) of partial results, <prefix><ingredient>, or NULL. -#}
{% macro sums(ingredients, form="aggregate", prefix="") -%}
{% for name, aggregate in ingredients %}{{ ",\n        " }}{{ aggregate if form == "aggregate" else "sum(" ~ name ~ ")" if form == "sum" else prefix ~ name if form == "column" else "NULL" }} AS {{ name }}{% endfor %}
{%- endmacro %}

{#- The pivoted step columns of a path, "event_1", "repeats_1", ..., "event_n", "repeats_n" (n = steps),
    each followed by `suffix` (e.g. " NULLS FIRST" in an ORDER BY). -#}
{% macro step_keys(steps, suffix="") -%}
{% for k in range(1, steps + 1) %}{{ ("event_" ~ k) | ident }}{{ suffix }}, {{ ("repeats_" ~ k) | ident }}{{ suffix }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endmacro %}

{#- The predicate of an event selector (eventspec.EventSpec.selection): the event is one of `names` and
    every filter holds. `names` and each filter's `placeholders` are the $names of bound values; a filter's
    `column` is quoted here; `!=` and `not in` count NULL as "not equal". `alias` qualifies the columns. -#}
{% macro selector(selection, alias="") -%}
{% set p = alias ~ "." if alias else "" %}
({{ p }}event_name IN ({{ selection.names | join(", ") }})
{%- for f in selection.filters %}
{% set column = p ~ (f.column | ident) %}
{% set values = f.placeholders | join(", ") %}
 AND {% if f.op == "=" %}{{ column }} = {{ values }}{% elif f.op == "!=" %}({{ column }} IS NULL OR {{ column }} <> {{ values }}){% elif f.op == "in" %}{{ column }} IN ({{ values }}){% else %}({{ column }} IS NULL OR {{ column }} NOT IN ({{ values }})){% endif %}
{%- endfor %})
{%- endmacro %}
