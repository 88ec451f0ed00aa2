with

stg_fleet__support_tickets as (

    select * from {{ ref('stg_fleet__support_tickets') }}

),

stg_fleet__devices as (

    select * from {{ ref('stg_fleet__devices') }}

),

int_data_bounds_computed as (

    select * from {{ ref('int_data_bounds_computed') }}

),

screened as (

    select
        stg_fleet__support_tickets.*,
        case
            when stg_fleet__support_tickets.opened_at is null then 'unparseable_opened_at'
            when stg_fleet__devices.device_id is null then 'unknown_device'
            when
                stg_fleet__support_tickets.opened_date < stg_fleet__devices.manufacture_date
                then 'opened_before_manufacture'
            when
                stg_fleet__support_tickets.opened_date > int_data_bounds_computed.as_of_date
                then 'opened_after_as_of_date'
        end as rejection_reason
    from stg_fleet__support_tickets
    cross join int_data_bounds_computed
    left join stg_fleet__devices
        on stg_fleet__support_tickets.device_id = stg_fleet__devices.device_id

)

select * from screened
