{#- Create every table of the `ml` source that the Python ML layer fills (`patchrisk score`)
    and that is still missing, empty, with the columns declared on the source, so a first
    build works before any scoring. -#}
{% macro create_ml_tables_if_missing() %}
    {{- return(adapter.dispatch('create_ml_tables_if_missing')()) -}}
{% endmacro %}

{% macro default__create_ml_tables_if_missing() %}
    {%- if execute -%}
        {%- set tables = graph.sources.values()
            | selectattr('source_name', 'equalto', 'ml')
            | list -%}
        {%- for node in tables -%}
            {%- set columns = [] -%}
            {%- for column in node.columns.values() -%}
                {%- do columns.append(column.name ~ ' ' ~ column.data_type) -%}
            {%- endfor %}
        create schema if not exists {{ node.schema }};
        create table if not exists {{ node.schema }}.{{ node.identifier }} (
            {{ columns | join(', ') }}
        );
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}

{#- Spark: one statement per call, and `varchar` (DuckDB's text) is `string`. -#}
{% macro spark__create_ml_tables_if_missing() %}
    {%- if execute -%}
        {%- set tables = graph.sources.values()
            | selectattr('source_name', 'equalto', 'ml')
            | list -%}
        {%- for node in tables -%}
            {%- set columns = [] -%}
            {%- for column in node.columns.values() -%}
                {%- set data_type = dbt.type_string() if column.data_type == 'varchar'
                    else column.data_type -%}
                {%- do columns.append(column.name ~ ' ' ~ data_type) -%}
            {%- endfor -%}
            {%- do run_query('create schema if not exists ' ~ node.schema) -%}
            {%- do run_query(
                'create table if not exists ' ~ node.schema ~ '.' ~ node.identifier
                ~ ' (' ~ columns | join(', ') ~ ')'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
