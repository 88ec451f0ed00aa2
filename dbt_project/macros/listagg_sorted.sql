{#- The sorted concatenation of a text column per group. `dbt.listagg`
    with an order-by clause on DuckDB; dbt-spark's listagg ignores the order (it warns),
    so Spark sorts the collected list itself. -#}
{% macro listagg_sorted(measure, delimiter_text) %}
    {{- return(adapter.dispatch('listagg_sorted')(measure, delimiter_text)) -}}
{% endmacro %}

{% macro default__listagg_sorted(measure, delimiter_text) -%}
    {{ dbt.listagg(measure, delimiter_text, 'order by ' ~ measure) }}
{%- endmacro %}

{% macro spark__listagg_sorted(measure, delimiter_text) -%}
    array_join(array_sort(collect_list({{ measure }})), {{ delimiter_text }})
{%- endmacro %}
