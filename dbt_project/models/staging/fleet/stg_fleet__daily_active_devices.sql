with

source as (

    select * from {{ source('fleet', 'daily_active_devices') }}

),

renamed as (

    select
        {{ dbt.safe_cast('activity_date', 'date') }} as activity_date,
        cast(release_id as {{ dbt.type_string() }}) as release_id,
        cast(device_model_id as {{ dbt.type_string() }}) as device_model_id,
        cast(region as {{ dbt.type_string() }}) as region,
        {{ dbt.safe_cast('active_devices', dbt.type_int()) }} as active_devices
    from source

)

select * from renamed
