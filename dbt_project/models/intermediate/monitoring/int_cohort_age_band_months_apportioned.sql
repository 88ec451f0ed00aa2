{#- Exposure and errors per release x device model x region x calendar month x device age band.
    Daily active devices carry no ages, so a cohort's device-days in a month are split by the
    share of its devices in each age band that month (assumption: activity does not depend on
    age). Errors take the band of their device in that month, so numerator and denominator
    use the same banding. Exposure of a cohort without known devices goes to band `unknown`.
    Incremental (delete+insert per activity_month): an incremental run recomputes the months
    from the one holding `incremental_lookback_days` before the latest day already built on. -#}
{{ config(
    materialized=day_incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='activity_month',
    on_schema_change='fail',
) }}

{%- set reprocess_from = (
    'cast(' ~ dbt.date_trunc('month', incremental_reprocess_from_date(this, 'last_activity_date'))
    ~ ' as date)'
    if is_incremental() else none
) %}

with

int_release_cohort_days_aggregated as (

    select * from {{ ref('int_release_cohort_days_aggregated') }}

),

int_device_months_aged as (

    select * from {{ ref('int_device_months_aged') }}

),

int_error_events_screened as (

    select * from {{ ref('int_error_events_screened') }}

),

cohort_months as (

    select
        release_id,
        device_model_id,
        region,
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as activity_month,
        sum(device_days) as device_days,
        min(activity_date) as first_activity_date,
        max(activity_date) as last_activity_date
    from int_release_cohort_days_aggregated
    where {{ reprocessed_rows_filter('activity_date', reprocess_from) }}
    group by
        release_id,
        device_model_id,
        region,
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date)

),

band_mix as (

    select
        device_model_id,
        region,
        activity_month,
        device_age_band,
        device_age_band_min_years,
        count(*) as device_count,
        avg(device_age_years) as mean_device_age_years
    from int_device_months_aged
    where {{ reprocessed_rows_filter('activity_month', reprocess_from) }}
    group by device_model_id, region, activity_month, device_age_band, device_age_band_min_years

),

band_shares as (

    select
        *,
        1.0 * device_count / sum(device_count) over (
            partition by device_model_id, region, activity_month
        ) as device_share
    from band_mix

),

apportioned_exposure as (

    select
        cohort_months.release_id,
        cohort_months.device_model_id,
        cohort_months.region,
        cohort_months.activity_month,
        coalesce(band_shares.device_age_band, 'unknown') as device_age_band,
        band_shares.device_age_band_min_years,
        band_shares.device_count,
        band_shares.mean_device_age_years,
        cohort_months.device_days * coalesce(band_shares.device_share, 1.0) as device_days,
        cohort_months.first_activity_date,
        cohort_months.last_activity_date
    from cohort_months
    left join band_shares
        on
            cohort_months.device_model_id = band_shares.device_model_id
            and cohort_months.region = band_shares.region
            and cohort_months.activity_month = band_shares.activity_month

),

band_errors as (

    select
        int_error_events_screened.release_id,
        int_device_months_aged.device_model_id,
        int_device_months_aged.region,
        int_device_months_aged.activity_month,
        int_device_months_aged.device_age_band,
        count(*) as error_count,
        min(int_error_events_screened.occurred_date) as first_error_date,
        max(int_error_events_screened.occurred_date) as last_error_date
    from int_error_events_screened
    inner join int_device_months_aged
        on
            int_error_events_screened.device_id = int_device_months_aged.device_id
            and cast(
                {{ dbt.date_trunc('month', 'int_error_events_screened.occurred_date') }} as date
            )
            = int_device_months_aged.activity_month
    where
        int_error_events_screened.rejection_reason is null
        and {{ reprocessed_rows_filter('int_error_events_screened.occurred_date', reprocess_from) }}
    group by
        int_error_events_screened.release_id,
        int_device_months_aged.device_model_id,
        int_device_months_aged.region,
        int_device_months_aged.activity_month,
        int_device_months_aged.device_age_band

),

combined as (

    select
        coalesce(apportioned_exposure.release_id, band_errors.release_id) as release_id,
        coalesce(
            apportioned_exposure.device_model_id, band_errors.device_model_id
        ) as device_model_id,
        coalesce(apportioned_exposure.region, band_errors.region) as region,
        coalesce(
            apportioned_exposure.activity_month, band_errors.activity_month
        ) as activity_month,
        coalesce(
            apportioned_exposure.device_age_band, band_errors.device_age_band
        ) as device_age_band,
        apportioned_exposure.device_age_band_min_years,
        cast(
            coalesce(apportioned_exposure.device_count, 0) as {{ dbt.type_bigint() }}
        ) as cohort_band_device_count,
        apportioned_exposure.mean_device_age_years,
        coalesce(apportioned_exposure.device_days, 0.0) as device_days,
        cast(coalesce(band_errors.error_count, 0) as {{ dbt.type_bigint() }}) as error_count,
        coalesce(
            apportioned_exposure.first_activity_date, band_errors.first_error_date
        ) as first_activity_date,
        coalesce(
            apportioned_exposure.last_activity_date, band_errors.last_error_date
        ) as last_activity_date
    from apportioned_exposure
    full outer join band_errors
        on
            apportioned_exposure.release_id = band_errors.release_id
            and apportioned_exposure.device_model_id = band_errors.device_model_id
            and apportioned_exposure.region = band_errors.region
            and apportioned_exposure.activity_month = band_errors.activity_month
            and apportioned_exposure.device_age_band = band_errors.device_age_band

)

select * from combined
