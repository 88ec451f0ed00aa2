{#- Per screened raw table: rows read, rows accepted downstream and rows quarantined, so that
    raw = accepted + excluded proves nothing was dropped silently. -#}
with

int_error_events_screened as (

    select * from {{ ref('int_error_events_screened') }}

),

int_support_tickets_screened as (

    select * from {{ ref('int_support_tickets_screened') }}

),

int_daily_active_devices_screened as (

    select * from {{ ref('int_daily_active_devices_screened') }}

),

int_firmware_releases_screened as (

    select * from {{ ref('int_firmware_releases_screened') }}

),

fct_quarantined_raw_rows as (

    select * from {{ ref('fct_quarantined_raw_rows') }}

),

screened_counts as (

    select
        'error_events' as source_table,
        count(*) as raw_row_count,
        sum(case when rejection_reason is null then 1 else 0 end) as accepted_row_count
    from int_error_events_screened

    union all

    select
        'support_tickets' as source_table,
        count(*) as raw_row_count,
        sum(case when rejection_reason is null then 1 else 0 end) as accepted_row_count
    from int_support_tickets_screened

    union all

    select
        'daily_active_devices' as source_table,
        count(*) as raw_row_count,
        sum(case when rejection_reason is null then 1 else 0 end) as accepted_row_count
    from int_daily_active_devices_screened

    union all

    select
        'firmware_releases' as source_table,
        count(*) as raw_row_count,
        count(*) as accepted_row_count
    from int_firmware_releases_screened

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
        screened_counts.source_table,
        cast(screened_counts.raw_row_count as {{ dbt.type_bigint() }}) as raw_row_count,
        cast(
            coalesce(screened_counts.accepted_row_count, 0) as {{ dbt.type_bigint() }}
        ) as accepted_row_count,
        cast(
            coalesce(quarantine_counts.excluded_row_count, 0) as {{ dbt.type_bigint() }}
        ) as excluded_row_count,
        cast(
            coalesce(quarantine_counts.repaired_row_count, 0) as {{ dbt.type_bigint() }}
        ) as repaired_row_count
    from screened_counts
    left join quarantine_counts
        on screened_counts.source_table = quarantine_counts.source_table

)

select * from reconciled
