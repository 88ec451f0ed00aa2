{#- On an incremental run, the first day to (re)process: the latest `date_column` already in
    `relation` (rows matching `where`) minus `incremental_lookback_days`, as a quoted date
    literal; a date before any data when the relation holds no such row. Only called inside
    `is_incremental()`, so `relation` exists. -#}
{% macro incremental_reprocess_from_date(relation, date_column, where='1 = 1') -%}
    {%- set reprocess_from = '1900-01-01' -%}
    {%- if execute -%}
        {%- set query -%}
            select max({{ date_column }}) from {{ relation }} where {{ where }}
        {%- endset -%}
        {%- set latest = run_query(query).columns[0].values()[0] -%}
        {%- if latest is not none -%}
            {%- set latest_date = modules.datetime.date.fromisoformat((latest | string)[:10]) -%}
            {%- set reprocess_from = (
                latest_date - modules.datetime.timedelta(days=var('incremental_lookback_days'))
            ).isoformat() -%}
        {%- endif -%}
    {%- endif -%}
    cast('{{ reprocess_from }}' as date)
{%- endmacro %}

{#- `column >= reprocess_from` on an incremental run (reprocess_from from
    incremental_reprocess_from_date), `1 = 1` (every row) otherwise. -#}
{% macro reprocessed_rows_filter(column, reprocess_from) -%}
    {%- if reprocess_from is not none -%}
        {{ column }} >= {{ reprocess_from }}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The materialization of the day-grain incremental models. dbt-spark offers delete+insert
    only on Delta / Iceberg / Hudi tables, and the spark target writes plain Parquet, so on
    Spark these models are rebuilt in full (`is_incremental()` is then false). -#}
{% macro day_incremental_materialization() -%}
    {{ return(adapter.dispatch('day_incremental_materialization')()) }}
{%- endmacro %}

{% macro default__day_incremental_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__day_incremental_materialization() -%}
    {{ return('table') }}
{%- endmacro %}
