{#- Zero-filled calendar per platform: one row per platform and day from its first release
    to the as-of date, so that trailing windows can count calendar days. -#}
with

int_release_days_aggregated as (

    select * from {{ ref('int_release_days_aggregated') }}

),

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
        min(release_date) as first_release_date
    from int_firmware_releases_sequenced
    group by platform_id

),

platform_calendar as (

    select
        platforms.platform_id,
        cast({{ dbt.dateadd(
            'day', 'int_day_offsets_generated.day_offset', 'platforms.first_release_date'
        ) }} as date) as activity_date
    from platforms
    cross join int_data_bounds_computed
    inner join int_day_offsets_generated
        on
            int_day_offsets_generated.day_offset <= {{ dbt.datediff(
                'platforms.first_release_date', 'int_data_bounds_computed.as_of_date', 'day'
            ) }}

),

platform_totals as (

    select
        platform_id,
        activity_date,
        sum(device_days) as device_days,
        sum(error_count) as error_count
    from int_release_days_aggregated
    group by platform_id, activity_date

),

platform_days as (

    select
        platform_calendar.platform_id,
        platform_calendar.activity_date,
        cast(coalesce(platform_totals.device_days, 0) as {{ dbt.type_bigint() }}) as device_days,
        cast(coalesce(platform_totals.error_count, 0) as {{ dbt.type_bigint() }}) as error_count,
        10000.0 * platform_totals.error_count
        / nullif(platform_totals.device_days, 0) as errors_per_10k_device_days
    from platform_calendar
    left join platform_totals
        on
            platform_calendar.platform_id = platform_totals.platform_id
            and platform_calendar.activity_date = platform_totals.activity_date

)

select * from platform_days
