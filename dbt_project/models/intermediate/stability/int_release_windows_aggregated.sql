{#- Post-release observation window: days 0 .. observation_window_days - 1 after release_date
    (the release's own exposure and errors only). The window's outcome is final, and its
    label can be computed, from label_available_date = release_date + observation_window_days. -#}
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

window_totals as (

    select
        release_id,
        sum(device_days) as device_days,
        sum(error_count) as error_count,
        sum(crash_error_count) as crash_error_count
    from int_release_days_aggregated
    where days_since_release between 0 and {{ var('observation_window_days') - 1 }}
    group by release_id

),

windows as (

    select
        int_firmware_releases_sequenced.release_id,
        int_firmware_releases_sequenced.platform_id,
        int_firmware_releases_sequenced.release_date,
        cast({{ dbt.dateadd(
            'day', var('observation_window_days') - 1, 'int_firmware_releases_sequenced.release_date'
        ) }} as date) as window_end_date,
        cast({{ dbt.dateadd(
            'day', var('observation_window_days'), 'int_firmware_releases_sequenced.release_date'
        ) }} as date) as label_available_date,
        cast(coalesce(window_totals.device_days, 0) as {{ dbt.type_bigint() }})
            as window_device_days,
        cast(coalesce(window_totals.error_count, 0) as {{ dbt.type_bigint() }})
            as window_error_count,
        cast(coalesce(window_totals.crash_error_count, 0) as {{ dbt.type_bigint() }})
            as window_crash_error_count,
        10000.0 * window_totals.error_count
        / nullif(window_totals.device_days, 0) as post_release_errors_per_10k_device_days,
        1.0 * window_totals.crash_error_count
        / nullif(window_totals.error_count, 0) as window_crash_share
    from int_firmware_releases_sequenced
    cross join int_data_bounds_computed
    left join window_totals
        on int_firmware_releases_sequenced.release_id = window_totals.release_id

),

closed as (

    select
        windows.*,
        windows.label_available_date <= int_data_bounds_computed.as_of_date as is_window_closed
    from windows
    cross join int_data_bounds_computed

)

select * from closed
