{#- A number rounded to `digits` decimals, as text (for human-readable reasons). -#}
{% macro format_number(expression, digits=0) -%}
    {%- if digits == 0 -%}
        cast(cast(round({{ expression }}, 0) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }})
    {%- else -%}
        cast(round({{ expression }}, {{ digits }}) as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}
