with

stg_fleet__device_models as (

    select * from {{ ref('stg_fleet__device_models') }}

),

stg_fleet__devices as (

    select * from {{ ref('stg_fleet__devices') }}

),

device_counts as (

    select
        device_model_id,
        count(*) as device_count
    from stg_fleet__devices
    group by device_model_id

),

device_models as (

    select
        stg_fleet__device_models.device_model_id,
        stg_fleet__device_models.model_name,
        stg_fleet__device_models.platform_id,
        stg_fleet__device_models.soc_family,
        stg_fleet__device_models.launch_date,
        coalesce(device_counts.device_count, 0) as device_count
    from stg_fleet__device_models
    left join device_counts
        on stg_fleet__device_models.device_model_id = device_counts.device_model_id

)

select * from device_models
