{#- Releases awaiting a QA verdict (observation window still open), in the order QA should
    review them: calibrated risk per line changed, highest first. -#}
with

fct_release_features as (

    select * from {{ ref('fct_release_features') }}

),

fct_release_outcomes as (

    select * from {{ ref('fct_release_outcomes') }}

),

stg_ml__release_risk_scores as (

    select * from {{ ref('stg_ml__release_risk_scores') }}

),

awaiting_qa as (

    select
        fct_release_features.release_id,
        fct_release_features.platform_id,
        fct_release_features.release_date,
        fct_release_features.patch_type,
        fct_release_outcomes.label_available_date,
        stg_ml__release_risk_scores.regression_probability,
        stg_ml__release_risk_scores.predicted_errors_per_10k_device_days,
        stg_ml__release_risk_scores.decision,
        stg_ml__release_risk_scores.model_version,
        fct_release_features.platform_active_devices_day_before as target_fleet_devices,
        fct_release_features.lines_changed,
        fct_release_features.component_count
    from fct_release_features
    inner join fct_release_outcomes
        on fct_release_features.release_id = fct_release_outcomes.release_id
    left join stg_ml__release_risk_scores
        on fct_release_features.release_id = stg_ml__release_risk_scores.release_id
    where not fct_release_outcomes.is_window_closed

),

prioritised as (

    select
        *,
        predicted_errors_per_10k_device_days * target_fleet_devices / 10000.0
            as expected_daily_errors,
        1000.0 * regression_probability / greatest(lines_changed, 1)
            as risk_per_1k_lines_changed,
        case
            when regression_probability is null then 'Unscored'
            when regression_probability >= {{ var('qa_tier_critical_min_probability') }}
                then 'Critical'
            when regression_probability >= {{ var('qa_tier_high_min_probability') }}
                then 'High'
            when regression_probability >= {{ var('qa_tier_medium_min_probability') }}
                then 'Medium'
            else 'Low'
        end as qa_tier
    from awaiting_qa

)

select
    release_id,
    platform_id,
    release_date,
    patch_type,
    label_available_date,
    regression_probability,
    predicted_errors_per_10k_device_days,
    decision,
    model_version,
    target_fleet_devices,
    expected_daily_errors,
    lines_changed,
    component_count,
    risk_per_1k_lines_changed,
    qa_tier,
    cast(row_number() over (
        order by
            case when regression_probability is null then 1 else 0 end,
            risk_per_1k_lines_changed desc,
            lines_changed asc,
            release_id asc
    ) as {{ dbt.type_int() }}) as priority_rank
from prioritised
