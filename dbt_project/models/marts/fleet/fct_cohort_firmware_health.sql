{#- Health of each cohort (device model x region x device age band) on each firmware release,
    against the same cohort on the platform's previous firmware; see the model description. -#}
with

int_cohort_age_band_months_apportioned as (

    select * from {{ ref('int_cohort_age_band_months_apportioned') }}

),

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

fct_device_age_effect as (

    select * from {{ ref('fct_device_age_effect') }}

),

cohort_firmware as (

    select
        release_id,
        device_model_id,
        region,
        device_age_band,
        min(device_age_band_min_years) as device_age_band_min_years,
        sum(device_days) as device_days,
        sum(error_count) as error_count,
        coalesce(
            sum(device_days * mean_device_age_years)
            / nullif(sum(case when mean_device_age_years is not null then device_days end), 0),
            avg(mean_device_age_years)
        ) as mean_device_age_years,
        min(first_activity_date) as first_activity_date,
        max(last_activity_date) as last_activity_date
    from int_cohort_age_band_months_apportioned
    group by release_id, device_model_id, region, device_age_band

),

baselined as (

    select
        cohort_firmware.release_id,
        int_firmware_releases_sequenced.platform_id,
        int_firmware_releases_sequenced.release_date,
        cohort_firmware.device_model_id,
        cohort_firmware.region,
        cohort_firmware.device_age_band,
        cohort_firmware.device_age_band_min_years,
        cohort_firmware.first_activity_date,
        cohort_firmware.last_activity_date,
        cohort_firmware.device_days,
        cohort_firmware.error_count,
        cohort_firmware.mean_device_age_years,
        int_firmware_releases_sequenced.previous_release_id as baseline_release_id,
        coalesce(previous_firmware.device_days, 0.0) as baseline_device_days,
        coalesce(previous_firmware.error_count, 0) as baseline_error_count,
        previous_firmware.mean_device_age_years as baseline_mean_device_age_years,
        coalesce(fct_device_age_effect.log_rate_slope_per_year, 0.0) as age_slope_per_year,
        fct_device_age_effect.fleet_mean_device_age_years
    from cohort_firmware
    left join int_firmware_releases_sequenced
        on cohort_firmware.release_id = int_firmware_releases_sequenced.release_id
    left join cohort_firmware as previous_firmware
        on
            int_firmware_releases_sequenced.previous_release_id = previous_firmware.release_id
            and cohort_firmware.device_model_id = previous_firmware.device_model_id
            and cohort_firmware.region = previous_firmware.region
            and cohort_firmware.device_age_band = previous_firmware.device_age_band
    cross join fct_device_age_effect

),

tested as (

    select
        *,
        case
            when baseline_release_id is null then 'no_previous_firmware'
            when device_days < {{ var('monitor_min_device_days') }} then 'insufficient_exposure'
            when
                baseline_device_days < {{ var('monitor_min_device_days') }}
                then 'insufficient_baseline_exposure'
            else 'tested'
        end as rate_ratio_test_status,
        {#- log rate ratio, 0.5 added to both counts, minus the age drift between the periods -#}
        ln((error_count + 0.5) / nullif(device_days, 0))
        - ln((baseline_error_count + 0.5) / nullif(baseline_device_days, 0))
        - age_slope_per_year * coalesce(
            mean_device_age_years - baseline_mean_device_age_years, 0
        ) as age_adjusted_log_rate_ratio,
        sqrt(1.0 / (error_count + 0.5) + 1.0 / (baseline_error_count + 0.5))
            as log_rate_ratio_standard_error,
        exp(
            age_slope_per_year * coalesce(mean_device_age_years - fleet_mean_device_age_years, 0)
        ) as raw_age_risk_multiplier
    from baselined

),

scored as (

    select
        *,
        case
            when rate_ratio_test_status = 'tested'
                then round(age_adjusted_log_rate_ratio / log_rate_ratio_standard_error, 3)
        end as rate_ratio_z_score,
        case
            when rate_ratio_test_status = 'tested'
                then round(exp(age_adjusted_log_rate_ratio), 4)
        end as age_adjusted_rate_ratio,
        round(raw_age_risk_multiplier, 4) as age_risk_multiplier,
        case
            when rate_ratio_test_status = 'tested'
                then round(exp(age_adjusted_log_rate_ratio) * raw_age_risk_multiplier, 4)
        end as age_weighted_risk_score
    from tested

),

tiered as (

    select
        *,
        case
            when rate_ratio_test_status <> 'tested' then 'insufficient_data'
            when
                rate_ratio_z_score >= {{ var('watch_immediate_min_z') }}
                and age_weighted_risk_score >= {{ var('watch_immediate_min_risk') }}
                then 'immediate'
            when
                rate_ratio_z_score >= {{ var('watch_enhanced_min_z') }}
                and age_weighted_risk_score >= {{ var('watch_enhanced_min_risk') }}
                then 'enhanced'
            else 'standard'
        end as watch_tier
    from scored

),

explained as (

    select
        *,
        case rate_ratio_test_status
            when 'no_previous_firmware'
                then 'first firmware of the platform: no previous firmware to compare with'
            when 'insufficient_exposure'
                then {{ dbt.concat([
                    format_number('device_days'),
                    "' device-days on this firmware (minimum "
                    ~ var('monitor_min_device_days') ~ ")'",
                ]) }}
            when 'insufficient_baseline_exposure'
                then {{ dbt.concat([
                    format_number('baseline_device_days'),
                    "' device-days on the previous firmware '",
                    'baseline_release_id',
                    "' (minimum " ~ var('monitor_min_device_days') ~ ")'",
                ]) }}
            else {{ dbt.concat([
                format_number('age_adjusted_rate_ratio', 2),
                "'x the error rate on '",
                'baseline_release_id',
                "' after age adjustment (z = '",
                format_number('rate_ratio_z_score', 2),
                "'); age-weighted risk '",
                format_number('age_weighted_risk_score', 2),
                "' (mean age '",
                format_number('coalesce(mean_device_age_years, fleet_mean_device_age_years)', 1),
                "' y, age multiplier '",
                format_number('age_risk_multiplier', 2),
                "')'",
            ]) }}
        end as watch_reason
    from tiered

),

final as (

    select
        release_id,
        platform_id,
        release_date,
        device_model_id,
        region,
        device_age_band,
        device_age_band_min_years,
        first_activity_date,
        last_activity_date,
        device_days,
        cast(error_count as {{ dbt.type_bigint() }}) as error_count,
        10000.0 * error_count / nullif(device_days, 0) as errors_per_10k_device_days,
        mean_device_age_years,
        baseline_release_id,
        baseline_device_days,
        cast(baseline_error_count as {{ dbt.type_bigint() }}) as baseline_error_count,
        10000.0 * baseline_error_count
        / nullif(baseline_device_days, 0) as baseline_errors_per_10k_device_days,
        baseline_mean_device_age_years,
        error_count * baseline_device_days
        / nullif(device_days * baseline_error_count, 0) as errors_rate_ratio_to_baseline,
        rate_ratio_test_status,
        age_adjusted_rate_ratio,
        rate_ratio_z_score,
        age_risk_multiplier,
        age_weighted_risk_score,
        watch_tier,
        watch_reason
    from explained

)

select * from final
