{#- Day offsets 0 .. calendar_max_days - 1: the spine for calendars and stability curves. -#}
with

generated_numbers as (

    {{ dbt.generate_series(var('calendar_max_days')) }}

),

day_offsets as (

    select generated_number - 1 as day_offset
    from generated_numbers

)

select * from day_offsets
