{#- The canary's baseline candidates: for each release, cohort (device model x region) and day
    since rollout 0 .. canary_max_days - 1 on which the release had exposure or errors in the
    cohort, every older release of the platform (earlier release_date) that the same cohort
    ran on the same calendar day, with its exposure and errors there. -#}
with

int_release_cohort_days_aggregated as (

    select * from {{ ref('int_release_cohort_days_aggregated') }}

),

canary_cohort_days as (

    select
        release_id,
        platform_id,
        device_model_id,
        region,
        activity_date,
        days_since_release
    from int_release_cohort_days_aggregated
    where days_since_release between 0 and {{ var('canary_max_days') }} - 1

),

previous_firmware_cohort_days as (

    select
        canary_cohort_days.release_id,
        canary_cohort_days.platform_id,
        canary_cohort_days.device_model_id,
        canary_cohort_days.region,
        canary_cohort_days.activity_date,
        cast(canary_cohort_days.days_since_release as {{ dbt.type_int() }}) as days_since_release,
        int_release_cohort_days_aggregated.release_id as baseline_release_id,
        cast(
            int_release_cohort_days_aggregated.days_since_release as {{ dbt.type_int() }}
        ) as baseline_days_since_release,
        int_release_cohort_days_aggregated.device_days as baseline_device_days,
        int_release_cohort_days_aggregated.error_count as baseline_error_count
    from canary_cohort_days
    inner join int_release_cohort_days_aggregated
        on
            canary_cohort_days.platform_id = int_release_cohort_days_aggregated.platform_id
            and canary_cohort_days.device_model_id
            = int_release_cohort_days_aggregated.device_model_id
            and canary_cohort_days.region = int_release_cohort_days_aggregated.region
            and canary_cohort_days.activity_date = int_release_cohort_days_aggregated.activity_date
            -- same day, so an older release has been out for more days
            and canary_cohort_days.days_since_release
            < int_release_cohort_days_aggregated.days_since_release

)

select * from previous_firmware_cohort_days
