{#- Make the `fleet` source tables readable by name. DuckDB reads them in place through
    the source's `external_location` (nothing to do); Spark has no such hook, so each raw
    file becomes `fleet.<table>`: a view over `<raw_dir>/<table>.parquet`, or an external
    CSV table over `<raw_dir>/<table>.csv` (header row, every column text, as on DuckDB).
    Spark runs one statement at a time, hence run_query per statement. -#}
{% macro create_raw_sources() %}
    {{- return(adapter.dispatch('create_raw_sources')()) -}}
{% endmacro %}

{% macro default__create_raw_sources() %}{% endmacro %}

{% macro spark__create_raw_sources() %}
    {%- if execute -%}
        {%- set folder = raw_dir() -%}
        {%- set raw_format = var('raw_format', env_var('PATCHRISK_RAW_FORMAT', 'csv')) -%}
        {%- set tables = graph.sources.values()
            | selectattr('source_name', 'equalto', 'fleet')
            | list -%}
        {%- do run_query('create schema if not exists fleet') -%}
        {%- for node in tables -%}
            {%- set relation = 'fleet.' ~ node.identifier -%}
            {%- set path = folder ~ '/' ~ node.identifier ~ '.' ~ raw_format -%}
            {%- do run_query('drop view if exists ' ~ relation) -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- if raw_format == 'parquet' -%}
                {%- do run_query(
                    'create view ' ~ relation ~ ' as select * from parquet.`' ~ path ~ '`'
                ) -%}
            {%- else -%}
                {%- do run_query(
                    'create table ' ~ relation ~ ' using csv'
                    ~ " options (path '" ~ path ~ "', header 'true')"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
