{#- Spike detection: a platform day is a spike when its error rate exceeds the mean + k sd of
    the rates on the previous `spike_trailing_window_days` CALENDAR days (days without
    exposure have no rate and do not count), with enough errors and enough baseline days. -#}
with

int_platform_days_aggregated as (

    select * from {{ ref('int_platform_days_aggregated') }}

),

trailing_baselines as (

    select
        current_day.platform_id,
        current_day.activity_date,
        count(trailing_day.errors_per_10k_device_days) as baseline_day_count,
        avg(trailing_day.errors_per_10k_device_days) as baseline_errors_per_10k_device_days,
        stddev_samp(trailing_day.errors_per_10k_device_days)
            as baseline_sd_errors_per_10k_device_days
    from int_platform_days_aggregated as current_day
    left join int_platform_days_aggregated as trailing_day
        on
            current_day.platform_id = trailing_day.platform_id
            and current_day.activity_date > trailing_day.activity_date
            and {{ dbt.dateadd(
                'day', -var('spike_trailing_window_days'), 'current_day.activity_date'
            ) }} <= trailing_day.activity_date
    group by current_day.platform_id, current_day.activity_date

),

scored as (

    select
        int_platform_days_aggregated.platform_id,
        int_platform_days_aggregated.activity_date,
        int_platform_days_aggregated.device_days,
        int_platform_days_aggregated.error_count,
        int_platform_days_aggregated.errors_per_10k_device_days,
        trailing_baselines.baseline_day_count,
        trailing_baselines.baseline_errors_per_10k_device_days,
        trailing_baselines.baseline_sd_errors_per_10k_device_days,
        coalesce(
            int_platform_days_aggregated.error_count >= {{ var('spike_min_errors') }}
            and trailing_baselines.baseline_day_count >= {{ var('spike_min_baseline_days') }}
            and int_platform_days_aggregated.errors_per_10k_device_days
            > trailing_baselines.baseline_errors_per_10k_device_days
            + {{ var('spike_sd_threshold') }}
            * trailing_baselines.baseline_sd_errors_per_10k_device_days,
            false
        ) as is_spike
    from int_platform_days_aggregated
    inner join trailing_baselines
        on
            int_platform_days_aggregated.platform_id = trailing_baselines.platform_id
            and int_platform_days_aggregated.activity_date = trailing_baselines.activity_date

)

select * from scored
