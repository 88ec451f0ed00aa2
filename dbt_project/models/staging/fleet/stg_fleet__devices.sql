with

source as (

    select * from {{ source('fleet', 'devices') }}

),

renamed as (

    select
        cast(device_id as {{ dbt.type_string() }}) as device_id,
        cast(device_model_id as {{ dbt.type_string() }}) as device_model_id,
        cast(region as {{ dbt.type_string() }}) as region,
        {{ dbt.safe_cast('manufacture_date', 'date') }} as manufacture_date,
        cast(hardware_revision as {{ dbt.type_string() }}) as hardware_revision
    from source

)

select * from renamed
