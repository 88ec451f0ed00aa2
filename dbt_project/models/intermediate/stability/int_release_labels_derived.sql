{#- The regression label; the rule is documented in docs block `regression_label_rule`. -#}
with

int_release_windows_aggregated as (

    select * from {{ ref('int_release_windows_aggregated') }}

),

eligible_releases as (

    select
        *,
        (
            is_window_closed
            and window_device_days >= {{ var('min_label_exposure_device_days') }}
        ) as is_label_eligible
    from int_release_windows_aggregated

),

ranked_baseline_candidates as (

    select
        eligible_releases.release_id,
        baseline_releases.post_release_errors_per_10k_device_days,
        row_number() over (
            partition by eligible_releases.release_id
            order by baseline_releases.release_date desc
        ) as baseline_rank
    from eligible_releases
    inner join eligible_releases as baseline_releases
        on
            eligible_releases.platform_id = baseline_releases.platform_id
            and eligible_releases.release_date > baseline_releases.release_date
            and baseline_releases.is_label_eligible

),

baselines as (

    select
        release_id,
        count(*) as baseline_release_count,
        percentile_cont(0.5) within group (
            order by post_release_errors_per_10k_device_days
        ) as baseline_errors_per_10k_device_days
    from ranked_baseline_candidates
    where baseline_rank <= {{ var('regression_baseline_max_releases') }}
    group by release_id

),

labelled as (

    select
        eligible_releases.release_id,
        eligible_releases.platform_id,
        eligible_releases.release_date,
        eligible_releases.label_available_date,
        eligible_releases.post_release_errors_per_10k_device_days,
        coalesce(baselines.baseline_release_count, 0) as baseline_release_count,
        baselines.baseline_errors_per_10k_device_days,
        eligible_releases.post_release_errors_per_10k_device_days
        / nullif(baselines.baseline_errors_per_10k_device_days, 0)
            as errors_rate_ratio_to_baseline,
        coalesce(
            eligible_releases.is_label_eligible
            and baselines.baseline_release_count >= {{ var('regression_baseline_min_releases') }}
            and baselines.baseline_errors_per_10k_device_days > 0,
            false
        ) as is_label_available
    from eligible_releases
    left join baselines
        on eligible_releases.release_id = baselines.release_id

),

decided as (

    select
        *,
        case
            when is_label_available
                then errors_rate_ratio_to_baseline >= {{ var('regression_rate_ratio') }}
        end as is_regression
    from labelled

)

select * from decided
