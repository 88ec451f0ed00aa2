with

stg_fleet__daily_active_devices as (

    select * from {{ ref('stg_fleet__daily_active_devices') }}

),

bounds as (

    select
        min(activity_date) as data_start_date,
        max(activity_date) as as_of_date
    from stg_fleet__daily_active_devices
    where active_devices >= 1

)

select * from bounds
