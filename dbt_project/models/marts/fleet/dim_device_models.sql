with

int_device_models_screened as (

    select * from {{ ref('int_device_models_screened') }}
    where rejection_reason is null

),

int_devices_screened as (

    select * from {{ ref('int_devices_screened') }}
    where rejection_reason is null

),

device_counts as (

    select
        device_model_id,
        count(*) as device_count
    from int_devices_screened
    group by device_model_id

),

device_models as (

    select
        int_device_models_screened.device_model_id,
        int_device_models_screened.model_name,
        int_device_models_screened.platform_id,
        int_device_models_screened.soc_family,
        int_device_models_screened.launch_date,
        coalesce(device_counts.device_count, 0) as device_count
    from int_device_models_screened
    left join device_counts
        on int_device_models_screened.device_model_id = device_counts.device_model_id

)

select * from device_models
