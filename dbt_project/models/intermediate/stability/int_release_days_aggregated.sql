with

int_daily_active_devices_screened as (

    select * from {{ ref('int_daily_active_devices_screened') }}

),

int_error_events_screened as (

    select * from {{ ref('int_error_events_screened') }}

),

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

exposure_days as (

    select
        release_id,
        activity_date,
        sum(active_devices) as device_days
    from int_daily_active_devices_screened
    where rejection_reason is null
    group by release_id, activity_date

),

error_days as (

    select
        release_id,
        occurred_date as activity_date,
        count(*) as error_count,
        sum(case when error_category = 'crash' then 1 else 0 end) as crash_error_count
    from int_error_events_screened
    where rejection_reason is null
    group by release_id, occurred_date

),

release_days as (

    select
        coalesce(exposure_days.release_id, error_days.release_id) as release_id,
        coalesce(exposure_days.activity_date, error_days.activity_date) as activity_date,
        cast(coalesce(exposure_days.device_days, 0) as {{ dbt.type_bigint() }}) as device_days,
        cast(coalesce(error_days.error_count, 0) as {{ dbt.type_bigint() }}) as error_count,
        cast(
            coalesce(error_days.crash_error_count, 0) as {{ dbt.type_bigint() }}
        ) as crash_error_count
    from exposure_days
    full outer join error_days
        on
            exposure_days.release_id = error_days.release_id
            and exposure_days.activity_date = error_days.activity_date

),

dated as (

    select
        release_days.release_id,
        int_firmware_releases_sequenced.platform_id,
        release_days.activity_date,
        {{ dbt.datediff(
            'int_firmware_releases_sequenced.release_date', 'release_days.activity_date', 'day'
        ) }} as days_since_release,
        release_days.device_days,
        release_days.error_count,
        release_days.crash_error_count
    from release_days
    inner join int_firmware_releases_sequenced
        on release_days.release_id = int_firmware_releases_sequenced.release_id

)

select * from dated
