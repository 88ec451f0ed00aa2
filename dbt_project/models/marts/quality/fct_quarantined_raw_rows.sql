{#- Every raw row that the screening models kept out of (or repaired for) the marts, with the
    reason; nothing is dropped silently. A missing key part reads `<null>`. -#}
{%- set string = dbt.type_string() %}

with

int_device_models_screened as (

    select * from {{ ref('int_device_models_screened') }}

),

int_devices_screened as (

    select * from {{ ref('int_devices_screened') }}

),

int_firmware_releases_screened as (

    select * from {{ ref('int_firmware_releases_screened') }}

),

int_daily_active_devices_screened as (

    select * from {{ ref('int_daily_active_devices_screened') }}

),

int_error_events_screened as (

    select * from {{ ref('int_error_events_screened') }}

),

int_support_tickets_screened as (

    select * from {{ ref('int_support_tickets_screened') }}

),

quarantined as (

    select
        'device_models' as source_table,
        coalesce(device_model_id, '<null>') as raw_row_key,
        rejection_reason,
        'row_excluded' as quarantine_action
    from int_device_models_screened
    where rejection_reason is not null

    union all

    select
        'devices' as source_table,
        coalesce(device_id, '<null>') as raw_row_key,
        rejection_reason,
        'row_excluded' as quarantine_action
    from int_devices_screened
    where rejection_reason is not null

    union all

    select
        'firmware_releases' as source_table,
        coalesce(release_id, '<null>') as raw_row_key,
        coalesce(rejection_reason, repair_reason) as rejection_reason,
        case
            when rejection_reason is not null then 'row_excluded' else 'code_change_counts_nulled'
        end as quarantine_action
    from int_firmware_releases_screened
    where rejection_reason is not null or repair_reason is not null

    union all

    select
        'daily_active_devices' as source_table,
        {{ dbt.concat([
            "coalesce(cast(activity_date as " ~ string ~ "), '<null>')", "'|'",
            "coalesce(release_id, '<null>')", "'|'",
            "coalesce(device_model_id, '<null>')", "'|'",
            "coalesce(region, '<null>')",
        ]) }} as raw_row_key,
        rejection_reason,
        'row_excluded' as quarantine_action
    from int_daily_active_devices_screened
    where rejection_reason is not null

    union all

    select
        'error_events' as source_table,
        coalesce(cast(event_id as {{ string }}), '<null>') as raw_row_key,
        rejection_reason,
        'row_excluded' as quarantine_action
    from int_error_events_screened
    where rejection_reason is not null

    union all

    select
        'support_tickets' as source_table,
        coalesce(ticket_id, '<null>') as raw_row_key,
        rejection_reason,
        'row_excluded' as quarantine_action
    from int_support_tickets_screened
    where rejection_reason is not null

),

numbered as (

    select
        source_table,
        raw_row_key,
        row_number() over (
            partition by source_table, raw_row_key
            order by rejection_reason
        ) as quarantine_row_number,
        rejection_reason,
        quarantine_action
    from quarantined

)

select * from numbered
