{#- Create the (empty) ml.release_risk_scores table that `patchrisk score` fills, from the
    columns declared on the `ml` source, so a first build works before any scoring. -#}
{% macro create_release_risk_scores_if_missing() %}
    {%- if execute -%}
        {%- set node = graph.sources.values()
            | selectattr('source_name', 'equalto', 'ml')
            | selectattr('name', 'equalto', 'release_risk_scores')
            | first -%}
        {%- set columns = [] -%}
        {%- for column in node.columns.values() -%}
            {%- do columns.append(column.name ~ ' ' ~ column.data_type) -%}
        {%- endfor -%}
        create schema if not exists {{ node.schema }};
        create table if not exists {{ node.schema }}.{{ node.identifier }} (
            {{ columns | join(', ') }}
        )
    {%- endif -%}
{% endmacro %}
