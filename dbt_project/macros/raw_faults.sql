{#- The first fault among a raw row's values, as a rejection reason (null when there is none):
    `missing_<column>` for a required column that is null or blank, `unparseable_<column>` for
    a typed column whose non-blank value does not cast to its type (else a silent null).
    Required columns are checked first, in the order given (a column's missing before its
    unparseable), then the optional typed columns. Columns are the raw ones: call it in the
    select that reads the source, next to the casts of `raw_types` (column -> type). -#}
{% macro raw_value_fault(required_columns, raw_types) -%}
    {%- set checked_columns = required_columns | list -%}
    {%- for column in raw_types if column not in required_columns -%}
        {%- do checked_columns.append(column) -%}
    {%- endfor -%}
    case
        {%- for column in checked_columns %}
            {%- set text = 'trim(cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ '))' %}
            {%- if column in required_columns %}
        when coalesce({{ text }}, '') = '' then 'missing_{{ column }}'
            {%- endif %}
            {%- if column in raw_types %}
        when
            {{ text }} <> '' and {{ dbt.safe_cast(column, raw_types[column]) }} is null
            then 'unparseable_{{ column }}'
            {%- endif %}
        {%- endfor %}
    end
{%- endmacro %}

{#- True when a text column's value is null or not one of `values` (a list of strings). -#}
{% macro is_unknown_value(column, values) -%}
    coalesce({{ column }}, '') not in ('{{ values | join("', '") }}')
{%- endmacro %}
