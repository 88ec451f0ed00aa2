{#- Errors per 10k device-days by release and day since release (0 .. stability_curve_days - 1),
    zero-filled; days after the data's as-of date are not yet observed and are absent. -#}
with

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

int_release_days_aggregated as (

    select * from {{ ref('int_release_days_aggregated') }}

),

int_data_bounds_computed as (

    select * from {{ ref('int_data_bounds_computed') }}

),

int_day_offsets_generated as (

    select * from {{ ref('int_day_offsets_generated') }}

),

release_day_spine as (

    select
        int_firmware_releases_sequenced.release_id,
        int_firmware_releases_sequenced.platform_id,
        int_day_offsets_generated.day_offset as days_since_release,
        cast({{ dbt.dateadd(
            'day', 'int_day_offsets_generated.day_offset', 'int_firmware_releases_sequenced.release_date'
        ) }} as date) as activity_date
    from int_firmware_releases_sequenced
    cross join int_data_bounds_computed
    inner join int_day_offsets_generated
        on
            int_day_offsets_generated.day_offset < {{ var('stability_curve_days') }}
            and int_day_offsets_generated.day_offset <= {{ dbt.datediff(
                'int_firmware_releases_sequenced.release_date',
                'int_data_bounds_computed.as_of_date',
                'day',
            ) }}

),

curves as (

    select
        release_day_spine.release_id,
        release_day_spine.platform_id,
        cast(release_day_spine.days_since_release as {{ dbt.type_int() }}) as days_since_release,
        release_day_spine.activity_date,
        coalesce(int_release_days_aggregated.device_days, 0) as device_days,
        coalesce(int_release_days_aggregated.error_count, 0) as error_count,
        coalesce(int_release_days_aggregated.crash_error_count, 0) as crash_error_count,
        10000.0 * int_release_days_aggregated.error_count
        / nullif(int_release_days_aggregated.device_days, 0) as errors_per_10k_device_days
    from release_day_spine
    left join int_release_days_aggregated
        on
            release_day_spine.release_id = int_release_days_aggregated.release_id
            and release_day_spine.activity_date = int_release_days_aggregated.activity_date

)

select * from curves
