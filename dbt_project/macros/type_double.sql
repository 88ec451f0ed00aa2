{#- An 8-byte floating-point type. `dbt.type_float()` is a 4-byte `float` on DuckDB, which
    would round probabilities and rates; `double` is the name DuckDB and Spark share. -#}
{% macro type_double() %}
    {{- return(adapter.dispatch('type_double')()) -}}
{% endmacro %}

{% macro default__type_double() %}double{% endmacro %}
