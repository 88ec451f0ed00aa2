{#- Accepted exposure and accepted error events per release, device model, region and day:
    the cohort grain (days with exposure or errors). Incremental (delete+insert per
    activity_date): an incremental run recomputes the days from `incremental_lookback_days`
    before the latest day already built on. -#}
{{ config(
    materialized=day_incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='activity_date',
    on_schema_change='fail',
) }}

{%- set reprocess_from = (
    incremental_reprocess_from_date(this, 'activity_date') if is_incremental() else none
) %}

with

int_daily_active_devices_screened as (

    select * from {{ ref('int_daily_active_devices_screened') }}

),

int_error_events_screened as (

    select * from {{ ref('int_error_events_screened') }}

),

int_devices_screened as (

    select * from {{ ref('int_devices_screened') }}
    where rejection_reason is null

),

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

exposure_days as (

    select
        release_id,
        device_model_id,
        region,
        activity_date,
        sum(active_devices) as device_days
    from int_daily_active_devices_screened
    where
        rejection_reason is null
        and {{ reprocessed_rows_filter('activity_date', reprocess_from) }}
    group by release_id, device_model_id, region, activity_date

),

error_days as (

    select
        int_error_events_screened.release_id,
        int_devices_screened.device_model_id,
        int_devices_screened.region,
        int_error_events_screened.occurred_date as activity_date,
        count(*) as error_count,
        sum(
            case when int_error_events_screened.error_category = 'crash' then 1 else 0 end
        ) as crash_error_count
    from int_error_events_screened
    inner join int_devices_screened
        on int_error_events_screened.device_id = int_devices_screened.device_id
    where
        int_error_events_screened.rejection_reason is null
        and {{ reprocessed_rows_filter(
            'int_error_events_screened.occurred_date', reprocess_from
        ) }}
    group by
        int_error_events_screened.release_id,
        int_devices_screened.device_model_id,
        int_devices_screened.region,
        int_error_events_screened.occurred_date

),

cohort_days as (

    select
        coalesce(exposure_days.release_id, error_days.release_id) as release_id,
        coalesce(exposure_days.device_model_id, error_days.device_model_id) as device_model_id,
        coalesce(exposure_days.region, error_days.region) as region,
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
            and exposure_days.device_model_id = error_days.device_model_id
            and exposure_days.region = error_days.region
            and exposure_days.activity_date = error_days.activity_date

),

dated as (

    select
        cohort_days.release_id,
        int_firmware_releases_sequenced.platform_id,
        cohort_days.device_model_id,
        cohort_days.region,
        cohort_days.activity_date,
        {{ dbt.datediff(
            'int_firmware_releases_sequenced.release_date', 'cohort_days.activity_date', 'day'
        ) }} as days_since_release,
        cohort_days.device_days,
        cohort_days.error_count,
        cohort_days.crash_error_count
    from cohort_days
    inner join int_firmware_releases_sequenced
        on cohort_days.release_id = int_firmware_releases_sequenced.release_id

)

select * from dated
