{#- Model contracts on Spark. The declared column types are DuckDB's; the engines differ in
    two ways the contracts meet:
    - Spark has no bare `varchar` (it needs a length): text is `string` there;
    - the same SQL can give other types: row_number() and date differences are `int` on
      Spark (`bigint` on DuckDB), and arithmetic with a decimal literal (e.g. `10000.0`)
      stays `decimal` on Spark (DuckDB divides to `double`).
    So on Spark a contracted table selects each declared column cast to its declared type
    (the table then has the contract's types), and the contract check requires exactly the
    declared column names plus types that match once cast. DuckDB keeps dbt's exact check. -#}
{% macro spark_contract_type(data_type) -%}
    {{- dbt.type_string() if (data_type or '') | lower == 'varchar' else data_type -}}
{%- endmacro %}

{% macro spark__get_empty_schema_sql(columns) %}
    {%- set spark_columns = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set spark_column = {} -%}
        {%- do spark_column.update(column) -%}
        {%- do spark_column.update({'data_type': spark_contract_type(column.get('data_type'))}) -%}
        {%- do spark_columns.update({name: spark_column}) -%}
    {%- endfor -%}
    {{ return(default__get_empty_schema_sql(spark_columns)) }}
{% endmacro %}

{% macro spark__get_select_subquery(sql) %}
    select
    {%- for column in model['columns'].values() %}
        cast({{ column['name'] }} as {{ spark_contract_type(column['data_type']) }})
            as {{ column['name'] }}{{ ',' if not loop.last }}
    {%- endfor %}
    from (
        {{ sql }}
    ) as model_subq
{%- endmacro %}

{% macro spark__get_assert_columns_equivalent(sql) -%}
    {%- set sql_names = get_column_schema_from_query(sql)
        | map(attribute='name') | map('lower') | sort | list -%}
    {%- set contract_names = model['columns'].values()
        | map(attribute='name') | map('lower') | sort | list -%}
    {%- if sql_names != contract_names -%}
        {{ exceptions.raise_compiler_error(
            'enforced contract of ' ~ model.name ~ ': the model has columns ' ~ sql_names
            ~ ', the contract declares ' ~ contract_names) }}
    {%- endif -%}
    {{ return(assert_columns_equivalent(get_select_subquery(sql))) }}
{%- endmacro %}
