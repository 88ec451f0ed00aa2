{#- Devices tagged with a rejection_reason (null = accepted; the first matching reason wins).
    Of several rows with one device_id, the first (rows without a raw-value fault first, then
    by their values) is kept and the others rejected. -#}
with

stg_fleet__devices as (

    select * from {{ ref('stg_fleet__devices') }}

),

int_device_models_screened as (

    select * from {{ ref('int_device_models_screened') }}

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
            partition by device_id
            order by
                case when raw_value_fault is null then 0 else 1 end,
                device_model_id,
                region,
                manufacture_date,
                hardware_revision
        ) as device_copy_number
    from stg_fleet__devices

),

screened as (

    select
        numbered.device_id,
        numbered.device_model_id,
        numbered.region,
        numbered.manufacture_date,
        numbered.hardware_revision,
        numbered.device_copy_number,
        case
            when numbered.raw_value_fault is not null then numbered.raw_value_fault
            when numbered.device_copy_number > 1 then 'duplicate_device_id'
            when accepted_device_models.device_model_id is null then 'unknown_device_model'
            when {{ is_unknown_value('numbered.region', var('fleet_regions')) }}
                then 'unknown_region'
            when {{ is_unknown_value('numbered.hardware_revision', ['rev_a', 'rev_b', 'rev_c']) }}
                then 'unknown_hardware_revision'
        end as rejection_reason
    from numbered
    left join accepted_device_models
        on numbered.device_model_id = accepted_device_models.device_model_id

)

select * from screened
