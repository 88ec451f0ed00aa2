with

int_devices_screened as (

    select * from {{ ref('int_devices_screened') }}
    where rejection_reason is null

),

int_device_models_screened as (

    select * from {{ ref('int_device_models_screened') }}
    where rejection_reason is null

),

int_data_bounds_computed as (

    select * from {{ ref('int_data_bounds_computed') }}

),

aged as (

    select
        int_devices_screened.device_id,
        int_devices_screened.device_model_id,
        int_device_models_screened.platform_id,
        int_devices_screened.region,
        int_devices_screened.manufacture_date,
        int_devices_screened.hardware_revision,
        {{ dbt.datediff(
            'int_devices_screened.manufacture_date', 'int_data_bounds_computed.as_of_date', 'day'
        ) }} as device_age_days
    from int_devices_screened
    cross join int_data_bounds_computed
    inner join int_device_models_screened
        on int_devices_screened.device_model_id = int_device_models_screened.device_model_id

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
