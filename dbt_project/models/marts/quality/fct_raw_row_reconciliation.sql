{#- Per raw table: rows read (on its staging view, one row per raw row), rows accepted into the
    marts (on its screening model) and rows excluded or repaired (in fct_quarantined_raw_rows),
    so that raw = accepted + excluded proves no raw row was lost or counted twice. -#}
{%- set raw_tables = [
    'device_models',
    'devices',
    'firmware_releases',
    'daily_active_devices',
    'error_events',
    'support_tickets',
] %}

with

{% for table in raw_tables -%}
stg_fleet__{{ table }} as (

    select * from {{ ref('stg_fleet__' ~ table) }}

),

int_{{ table }}_screened as (

    select * from {{ ref('int_' ~ table ~ '_screened') }}

),

{% endfor -%}
fct_quarantined_raw_rows as (

    select * from {{ ref('fct_quarantined_raw_rows') }}

),

raw_counts as (

    {% for table in raw_tables -%}
    select
        '{{ table }}' as source_table,
        count(*) as raw_row_count
    from stg_fleet__{{ table }}
    {% if not loop.last %}
    union all

    {% endif -%}
    {% endfor %}

),

accepted_counts as (

    {% for table in raw_tables -%}
    select
        '{{ table }}' as source_table,
        count(*) as accepted_row_count
    from int_{{ table }}_screened
    where rejection_reason is null
    {% if not loop.last %}
    union all

    {% endif -%}
    {% endfor %}

),

quarantine_counts as (

    select
        source_table,
        sum(case when quarantine_action = 'row_excluded' then 1 else 0 end) as excluded_row_count,
        sum(case when quarantine_action <> 'row_excluded' then 1 else 0 end) as repaired_row_count
    from fct_quarantined_raw_rows
    group by source_table

),

reconciled as (

    select
        raw_counts.source_table,
        cast(raw_counts.raw_row_count as {{ dbt.type_bigint() }}) as raw_row_count,
        cast(
            coalesce(accepted_counts.accepted_row_count, 0) as {{ dbt.type_bigint() }}
        ) as accepted_row_count,
        cast(
            coalesce(quarantine_counts.excluded_row_count, 0) as {{ dbt.type_bigint() }}
        ) as excluded_row_count,
        cast(
            coalesce(quarantine_counts.repaired_row_count, 0) as {{ dbt.type_bigint() }}
        ) as repaired_row_count
    from raw_counts
    left join accepted_counts
        on raw_counts.source_table = accepted_counts.source_table
    left join quarantine_counts
        on raw_counts.source_table = quarantine_counts.source_table

)

select * from reconciled
