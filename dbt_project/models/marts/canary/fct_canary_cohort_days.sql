{#- Canary matching, one row per release, cohort (device model x region) and day since rollout
    0 .. canary_max_days - 1 on which the release had exposure or errors in that cohort. The
    baseline is the same cohort on the same calendar day on the platform's previous firmware:
    every older release the cohort still ran that day (fct_canary_baseline_days). A cohort-day
    without such exposure keeps a zero baseline and is_matched = false. -#}
with

int_release_cohort_days_aggregated as (

    select * from {{ ref('int_release_cohort_days_aggregated') }}

),

fct_canary_baseline_days as (

    select * from {{ ref('fct_canary_baseline_days') }}

),

canary_cohort_days as (

    select
        release_id,
        platform_id,
        device_model_id,
        region,
        activity_date,
        days_since_release,
        device_days,
        error_count
    from int_release_cohort_days_aggregated
    where days_since_release between 0 and {{ var('canary_max_days') }} - 1

),

previous_firmware_cohort_days as (

    select
        release_id,
        device_model_id,
        region,
        days_since_release,
        sum(baseline_device_days) as baseline_device_days,
        sum(baseline_error_count) as baseline_error_count,
        count(*) as baseline_release_count
    from fct_canary_baseline_days
    group by release_id, device_model_id, region, days_since_release

),

matched as (

    select
        canary_cohort_days.release_id,
        canary_cohort_days.platform_id,
        canary_cohort_days.device_model_id,
        canary_cohort_days.region,
        canary_cohort_days.activity_date,
        cast(canary_cohort_days.days_since_release as {{ dbt.type_int() }}) as days_since_release,
        canary_cohort_days.device_days as new_device_days,
        canary_cohort_days.error_count as new_error_count,
        cast(
            coalesce(previous_firmware_cohort_days.baseline_device_days, 0)
            as {{ dbt.type_bigint() }}
        ) as baseline_device_days,
        cast(
            coalesce(previous_firmware_cohort_days.baseline_error_count, 0)
            as {{ dbt.type_bigint() }}
        ) as baseline_error_count,
        cast(
            coalesce(previous_firmware_cohort_days.baseline_release_count, 0)
            as {{ dbt.type_int() }}
        ) as baseline_release_count,
        coalesce(
            canary_cohort_days.device_days > 0
            and previous_firmware_cohort_days.baseline_device_days > 0,
            false
        ) as is_matched
    from canary_cohort_days
    left join previous_firmware_cohort_days
        on
            canary_cohort_days.release_id = previous_firmware_cohort_days.release_id
            and canary_cohort_days.device_model_id = previous_firmware_cohort_days.device_model_id
            and canary_cohort_days.region = previous_firmware_cohort_days.region
            and canary_cohort_days.days_since_release
            = previous_firmware_cohort_days.days_since_release

)

select * from matched
