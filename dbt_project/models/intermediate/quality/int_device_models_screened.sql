{#- Device models tagged with a rejection_reason (null = accepted; the first matching reason
    wins). Of several rows with one device_model_id, the first (rows without a raw-value fault
    first, then by their values) is kept and the others rejected. -#}
with

stg_fleet__device_models as (

    select * from {{ ref('stg_fleet__device_models') }}

),

numbered as (

    select
        *,
        row_number() over (
            partition by device_model_id
            order by
                case when raw_value_fault is null then 0 else 1 end,
                model_name,
                platform_id,
                soc_family,
                launch_date
        ) as device_model_copy_number
    from stg_fleet__device_models

),

screened as (

    select
        device_model_id,
        model_name,
        platform_id,
        soc_family,
        launch_date,
        device_model_copy_number,
        case
            when raw_value_fault is not null then raw_value_fault
            when device_model_copy_number > 1 then 'duplicate_device_model_id'
        end as rejection_reason
    from numbered

)

select * from screened
