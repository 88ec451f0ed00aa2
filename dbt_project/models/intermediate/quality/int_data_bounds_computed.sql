with

int_daily_active_devices_screened as (

    select * from {{ ref('int_daily_active_devices_screened') }}

),

bounds as (

    select
        min(activity_date) as data_start_date,
        max(activity_date) as as_of_date
    from int_daily_active_devices_screened
    where rejection_reason is null

)

select * from bounds
