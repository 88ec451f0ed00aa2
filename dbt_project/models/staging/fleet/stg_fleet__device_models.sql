{%- set raw_types = {'launch_date': 'date'} %}

with

source as (

    select * from {{ source('fleet', 'device_models') }}

),

renamed as (

    select
        cast(device_model_id as {{ dbt.type_string() }}) as device_model_id,
        cast(model_name as {{ dbt.type_string() }}) as model_name,
        cast(platform_id as {{ dbt.type_string() }}) as platform_id,
        cast(soc_family as {{ dbt.type_string() }}) as soc_family,
        {{ dbt.safe_cast('launch_date', raw_types.launch_date) }} as launch_date,
        {{ raw_value_fault(['device_model_id', 'platform_id', 'launch_date'], raw_types) }}
            as raw_value_fault
    from source

)

select * from renamed
