{#- dbt-duckdb's safe_cast is a plain cast; a bad raw value must become null, not abort. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{#- dbt-spark's safe_cast is a plain cast too (an error under ANSI mode, Spark 4's default). -#}
{% macro spark__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
