with

source as (

    select * from {{ source('fleet', 'error_events') }}

),

renamed as (

    select
        {{ dbt.safe_cast('event_id', dbt.type_bigint()) }} as event_id,
        cast(device_id as {{ dbt.type_string() }}) as device_id,
        cast(release_id as {{ dbt.type_string() }}) as release_id,
        {{ dbt.safe_cast('occurred_at', dbt.type_timestamp()) }} as occurred_at,
        cast(error_code as {{ dbt.type_string() }}) as error_code,
        cast(error_category as {{ dbt.type_string() }}) as error_category,
        cast(severity as {{ dbt.type_string() }}) as severity
    from source

),

dated as (

    select
        *,
        cast(occurred_at as date) as occurred_date
    from renamed

)

select * from dated
