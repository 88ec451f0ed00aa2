{%- set raw_types = {'event_id': dbt.type_bigint(), 'occurred_at': dbt.type_timestamp()} %}

with

source as (

    select * from {{ source('fleet', 'error_events') }}

),

renamed as (

    select
        {{ dbt.safe_cast('event_id', raw_types.event_id) }} as event_id,
        cast(device_id as {{ dbt.type_string() }}) as device_id,
        cast(release_id as {{ dbt.type_string() }}) as release_id,
        {{ dbt.safe_cast('occurred_at', raw_types.occurred_at) }} as occurred_at,
        cast(error_code as {{ dbt.type_string() }}) as error_code,
        cast(error_category as {{ dbt.type_string() }}) as error_category,
        cast(severity as {{ dbt.type_string() }}) as severity,
        {{ raw_value_fault(['event_id', 'occurred_at', 'error_code'], raw_types) }}
            as raw_value_fault
    from source

),

dated as (

    select
        *,
        cast(occurred_at as date) as occurred_date
    from renamed

)

select * from dated
