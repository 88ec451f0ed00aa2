{#- The days a platform's release could roll out on: one row per platform and calendar day from
    its first release_date through the data's as-of date + 1. That last row ("tomorrow") is the
    context of a patch not yet rolled out: everything observable now. The calendar runs further
    only to reach releases dated beyond it (scheduled releases, or a world truncated to test
    point-in-time correctness), so that every release has the context row of its release_date. -#}
with

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

int_data_bounds_computed as (

    select * from {{ ref('int_data_bounds_computed') }}

),

int_day_offsets_generated as (

    select * from {{ ref('int_day_offsets_generated') }}

),

platforms as (

    select
        platform_id,
        min(release_date) as first_release_date,
        max(release_date) as last_release_date
    from int_firmware_releases_sequenced
    group by platform_id

),

platform_context_days as (

    select
        platforms.platform_id,
        cast({{ dbt.dateadd(
            'day', 'int_day_offsets_generated.day_offset', 'platforms.first_release_date'
        ) }} as date) as context_date,
        int_day_offsets_generated.day_offset > {{ dbt.datediff(
            'platforms.first_release_date', 'int_data_bounds_computed.as_of_date', 'day'
        ) }} as is_after_as_of_date
    from platforms
    cross join int_data_bounds_computed
    inner join int_day_offsets_generated
        on
            int_day_offsets_generated.day_offset <= {{ dbt.datediff(
                'platforms.first_release_date', 'int_data_bounds_computed.as_of_date', 'day'
            ) }} + 1
            or int_day_offsets_generated.day_offset <= {{ dbt.datediff(
                'platforms.first_release_date', 'platforms.last_release_date', 'day'
            ) }}

)

select * from platform_context_days
