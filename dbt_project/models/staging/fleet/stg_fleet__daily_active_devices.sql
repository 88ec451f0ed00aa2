{%- set raw_types = {'activity_date': 'date', 'active_devices': dbt.type_int()} %}

with

source as (

    select * from {{ source('fleet', 'daily_active_devices') }}

),

renamed as (

    select
        {{ dbt.safe_cast('activity_date', raw_types.activity_date) }} as activity_date,
        cast(release_id as {{ dbt.type_string() }}) as release_id,
        cast(device_model_id as {{ dbt.type_string() }}) as device_model_id,
        cast(region as {{ dbt.type_string() }}) as region,
        {{ dbt.safe_cast('active_devices', raw_types.active_devices) }} as active_devices,
        {{ raw_value_fault(['activity_date', 'active_devices'], raw_types) }} as raw_value_fault
    from source

)

select * from renamed
