with

stg_fleet__daily_active_devices as (

    select * from {{ ref('stg_fleet__daily_active_devices') }}

),

stg_fleet__firmware_releases as (

    select * from {{ ref('stg_fleet__firmware_releases') }}

),

screened as (

    select
        stg_fleet__daily_active_devices.*,
        case
            when stg_fleet__firmware_releases.release_id is null then 'unknown_release'
            when
                coalesce(stg_fleet__daily_active_devices.active_devices, 0) < 1
                then 'non_positive_active_devices'
        end as rejection_reason
    from stg_fleet__daily_active_devices
    left join stg_fleet__firmware_releases
        on stg_fleet__daily_active_devices.release_id = stg_fleet__firmware_releases.release_id

)

select * from screened
