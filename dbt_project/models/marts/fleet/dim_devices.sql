with

stg_fleet__devices as (

    select * from {{ ref('stg_fleet__devices') }}

),

stg_fleet__device_models as (

    select * from {{ ref('stg_fleet__device_models') }}

),

int_data_bounds_computed as (

    select * from {{ ref('int_data_bounds_computed') }}

),

aged as (

    select
        stg_fleet__devices.device_id,
        stg_fleet__devices.device_model_id,
        stg_fleet__device_models.platform_id,
        stg_fleet__devices.region,
        stg_fleet__devices.manufacture_date,
        stg_fleet__devices.hardware_revision,
        {{ dbt.datediff(
            'stg_fleet__devices.manufacture_date', 'int_data_bounds_computed.as_of_date', 'day'
        ) }} as device_age_days
    from stg_fleet__devices
    cross join int_data_bounds_computed
    inner join stg_fleet__device_models
        on stg_fleet__devices.device_model_id = stg_fleet__device_models.device_model_id

),

banded as (

    select
        *,
        case
            when device_age_days < 365 then 'under_1y'
            when device_age_days < 2 * 365 then '1y_to_2y'
            when device_age_days < 3 * 365 then '2y_to_3y'
            else '3y_plus'
        end as device_age_band
    from aged

)

select * from banded
