{#- No silent drop in fleet monitoring: every release x model x region x age band with
    exposure or errors has a fct_cohort_firmware_health row, and every health row active in the
    last `monitor_recent_days` days is on the watchlist. -#}
with

apportioned_keys as (

    select distinct
        release_id,
        device_model_id,
        region,
        device_age_band
    from {{ ref('int_cohort_age_band_months_apportioned') }}

),

health as (

    select * from {{ ref('fct_cohort_firmware_health') }}

),

watchlist as (

    select * from {{ ref('fct_fleet_watchlist') }}

),

bounds as (

    select * from {{ ref('int_data_bounds_computed') }}

),

missing_from_health as (

    select
        apportioned_keys.release_id,
        apportioned_keys.device_model_id,
        apportioned_keys.region,
        apportioned_keys.device_age_band,
        'missing from fct_cohort_firmware_health' as problem
    from apportioned_keys
    left join health
        on
            apportioned_keys.release_id = health.release_id
            and apportioned_keys.device_model_id = health.device_model_id
            and apportioned_keys.region = health.region
            and apportioned_keys.device_age_band = health.device_age_band
    where health.release_id is null

),

missing_from_watchlist as (

    select
        health.release_id,
        health.device_model_id,
        health.region,
        health.device_age_band,
        'missing from fct_fleet_watchlist' as problem
    from health
    cross join bounds
    left join watchlist
        on
            health.release_id = watchlist.release_id
            and health.device_model_id = watchlist.device_model_id
            and health.region = watchlist.region
            and health.device_age_band = watchlist.device_age_band
    where
        health.last_activity_date
        > {{ dbt.dateadd('day', -var('monitor_recent_days'), 'bounds.as_of_date') }}
        and watchlist.release_id is null

),

problems as (

    select * from missing_from_health
    union all
    select * from missing_from_watchlist

)

select * from problems
