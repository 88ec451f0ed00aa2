{#- Exposure rows tagged with a rejection_reason (null = accepted; the first matching reason
    wins). Of several rows with one activity_date, release, device model and region, the first
    (rows without a raw-value fault first, then by active_devices) is kept. -#}
with

stg_fleet__daily_active_devices as (

    select * from {{ ref('stg_fleet__daily_active_devices') }}

),

int_firmware_releases_screened as (

    select * from {{ ref('int_firmware_releases_screened') }}

),

int_device_models_screened as (

    select * from {{ ref('int_device_models_screened') }}

),

accepted_releases as (

    select release_id
    from int_firmware_releases_screened
    where rejection_reason is null

),

accepted_device_models as (

    select device_model_id
    from int_device_models_screened
    where rejection_reason is null

),

numbered as (

    select
        *,
        row_number() over (
            partition by activity_date, release_id, device_model_id, region
            order by
                case when raw_value_fault is null then 0 else 1 end,
                active_devices
        ) as exposure_copy_number
    from stg_fleet__daily_active_devices

),

screened as (

    select
        numbered.activity_date,
        numbered.release_id,
        numbered.device_model_id,
        numbered.region,
        numbered.active_devices,
        numbered.exposure_copy_number,
        case
            when numbered.raw_value_fault is not null then numbered.raw_value_fault
            when accepted_releases.release_id is null then 'unknown_release'
            when accepted_device_models.device_model_id is null then 'unknown_device_model'
            when {{ is_unknown_value('numbered.region', var('fleet_regions')) }}
                then 'unknown_region'
            when numbered.active_devices < 1 then 'non_positive_active_devices'
            when numbered.exposure_copy_number > 1 then 'duplicate_exposure_row'
        end as rejection_reason
    from numbered
    left join accepted_releases
        on numbered.release_id = accepted_releases.release_id
    left join accepted_device_models
        on numbered.device_model_id = accepted_device_models.device_model_id

)

select * from screened
