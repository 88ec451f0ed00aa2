{%- set raw_types = {'manufacture_date': 'date'} %}

with

source as (

    select * from {{ source('fleet', 'devices') }}

),

renamed as (

    select
        cast(device_id as {{ dbt.type_string() }}) as device_id,
        cast(device_model_id as {{ dbt.type_string() }}) as device_model_id,
        cast(region as {{ dbt.type_string() }}) as region,
        {{ dbt.safe_cast('manufacture_date', raw_types.manufacture_date) }} as manufacture_date,
        cast(hardware_revision as {{ dbt.type_string() }}) as hardware_revision,
        {{ raw_value_fault(['device_id', 'manufacture_date'], raw_types) }} as raw_value_fault
    from source

)

select * from renamed
