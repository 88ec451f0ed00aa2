{#- The cohorts to watch now: every cohort x firmware row of fct_cohort_firmware_health active
    in the last `monitor_recent_days` days up to the as-of date, ranked by tier. -#}
with

fct_cohort_firmware_health as (

    select * from {{ ref('fct_cohort_firmware_health') }}

),

int_data_bounds_computed as (

    select * from {{ ref('int_data_bounds_computed') }}

),

recent as (

    select
        fct_cohort_firmware_health.*,
        int_data_bounds_computed.as_of_date,
        case fct_cohort_firmware_health.watch_tier
            when 'immediate' then 1
            when 'enhanced' then 2
            when 'standard' then 3
            else 4
        end as watch_tier_priority
    from fct_cohort_firmware_health
    cross join int_data_bounds_computed
    where
        fct_cohort_firmware_health.last_activity_date
        > {{ dbt.dateadd(
            'day', -var('monitor_recent_days'), 'int_data_bounds_computed.as_of_date'
        ) }}

),

ranked as (

    select
        row_number() over (
            order by
                watch_tier_priority asc,
                age_weighted_risk_score desc nulls last,
                rate_ratio_z_score desc nulls last,
                device_days desc,
                release_id asc,
                device_model_id asc,
                region asc,
                device_age_band asc
        ) as watch_rank,
        watch_tier,
        cast(watch_tier_priority as {{ dbt.type_int() }}) as watch_tier_priority,
        watch_reason,
        platform_id,
        release_id,
        release_date,
        device_model_id,
        region,
        device_age_band,
        as_of_date,
        last_activity_date,
        device_days,
        error_count,
        errors_per_10k_device_days,
        mean_device_age_years,
        baseline_release_id,
        baseline_device_days,
        baseline_errors_per_10k_device_days,
        rate_ratio_test_status,
        age_adjusted_rate_ratio,
        rate_ratio_z_score,
        age_risk_multiplier,
        age_weighted_risk_score
    from recent

)

select * from ranked
