{%- set raw_types = {'opened_at': dbt.type_timestamp(), 'resolved_at': dbt.type_timestamp()} %}

with

source as (

    select * from {{ source('fleet', 'support_tickets') }}

),

renamed as (

    select
        cast(ticket_id as {{ dbt.type_string() }}) as ticket_id,
        cast(device_id as {{ dbt.type_string() }}) as device_id,
        {{ dbt.safe_cast('opened_at', raw_types.opened_at) }} as opened_at,
        cast(symptom as {{ dbt.type_string() }}) as symptom,
        cast(resolution as {{ dbt.type_string() }}) as resolution,
        {{ dbt.safe_cast('resolved_at', raw_types.resolved_at) }} as resolved_at,
        {{ raw_value_fault(['ticket_id', 'opened_at'], raw_types) }} as raw_value_fault
    from source

),

flagged as (

    select
        *,
        cast(opened_at as date) as opened_date,
        resolution = 'rma' as is_rma
    from renamed

)

select * from flagged
