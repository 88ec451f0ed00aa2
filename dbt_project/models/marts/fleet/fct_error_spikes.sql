{#- Platform days whose error rate spiked above its trailing calendar-day baseline. -#}
with

int_platform_days_scored as (

    select * from {{ ref('int_platform_days_scored') }}

),

spikes as (

    select
        platform_id,
        activity_date as spike_date,
        device_days,
        error_count,
        errors_per_10k_device_days,
        baseline_day_count,
        baseline_errors_per_10k_device_days,
        baseline_sd_errors_per_10k_device_days,
        (errors_per_10k_device_days - baseline_errors_per_10k_device_days)
        / nullif(baseline_sd_errors_per_10k_device_days, 0) as errors_rate_z_score
    from int_platform_days_scored
    where is_spike

)

select * from spikes
