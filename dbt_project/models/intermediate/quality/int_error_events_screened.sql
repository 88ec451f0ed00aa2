with

stg_fleet__error_events as (

    select * from {{ ref('stg_fleet__error_events') }}

),

stg_fleet__devices as (

    select * from {{ ref('stg_fleet__devices') }}

),

stg_fleet__firmware_releases as (

    select * from {{ ref('stg_fleet__firmware_releases') }}

),

int_data_bounds_computed as (

    select * from {{ ref('int_data_bounds_computed') }}

),

numbered as (

    select
        *,
        row_number() over (
            partition by event_id
            order by occurred_at, device_id, release_id, error_code
        ) as event_copy_number
    from stg_fleet__error_events

),

screened as (

    select
        numbered.*,
        case
            when numbered.event_id is null then 'missing_event_id'
            when numbered.occurred_at is null then 'unparseable_occurred_at'
            when stg_fleet__devices.device_id is null then 'unknown_device'
            when stg_fleet__firmware_releases.release_id is null then 'unknown_release'
            when numbered.event_copy_number > 1 then 'duplicate_event_id'
            when
                numbered.occurred_date < stg_fleet__devices.manufacture_date
                then 'occurred_before_manufacture'
            when
                numbered.occurred_date > int_data_bounds_computed.as_of_date
                then 'occurred_after_as_of_date'
        end as rejection_reason
    from numbered
    cross join int_data_bounds_computed
    left join stg_fleet__devices
        on numbered.device_id = stg_fleet__devices.device_id
    left join stg_fleet__firmware_releases
        on numbered.release_id = stg_fleet__firmware_releases.release_id

)

select * from screened
