{#- MetricFlow's day time spine: one row per calendar day of the data, first day .. as-of date. -#}
with

int_data_bounds_computed as (

    select * from {{ ref('int_data_bounds_computed') }}

),

int_day_offsets_generated as (

    select * from {{ ref('int_day_offsets_generated') }}

),

calendar_days as (

    select
        cast(
            {{ dbt.dateadd('day', 'int_day_offsets_generated.day_offset',
                'int_data_bounds_computed.data_start_date') }} as date
        ) as date_day
    from int_data_bounds_computed
    cross join int_day_offsets_generated
    where
        int_day_offsets_generated.day_offset
        <= {{ dbt.datediff('int_data_bounds_computed.data_start_date',
            'int_data_bounds_computed.as_of_date', 'day') }}

)

select * from calendar_days
