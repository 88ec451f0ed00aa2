{#- The canary comparison per release and day since rollout, 0 .. canary_max_days - 1 (up to
    the data's as-of date), zero-filled: matched exposure and errors of the new firmware and of
    the previous firmware in the same cohorts and days, the unmatched rest, running totals and
    a comparison status. -#}
with

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

int_data_bounds_computed as (

    select * from {{ ref('int_data_bounds_computed') }}

),

int_day_offsets_generated as (

    select * from {{ ref('int_day_offsets_generated') }}

),

fct_canary_cohort_days as (

    select * from {{ ref('fct_canary_cohort_days') }}

),

release_day_spine as (

    select
        int_firmware_releases_sequenced.release_id,
        int_firmware_releases_sequenced.platform_id,
        int_firmware_releases_sequenced.previous_release_id,
        cast(int_day_offsets_generated.day_offset as {{ dbt.type_int() }}) as days_since_release,
        cast({{ dbt.dateadd(
            'day', 'int_day_offsets_generated.day_offset', 'int_firmware_releases_sequenced.release_date'
        ) }} as date) as activity_date
    from int_firmware_releases_sequenced
    cross join int_data_bounds_computed
    inner join int_day_offsets_generated
        on
            int_day_offsets_generated.day_offset < {{ var('canary_max_days') }}
            and int_day_offsets_generated.day_offset <= {{ dbt.datediff(
                'int_firmware_releases_sequenced.release_date',
                'int_data_bounds_computed.as_of_date',
                'day',
            ) }}

),

daily_totals as (

    select
        release_id,
        days_since_release,
        sum(new_device_days) as new_device_days,
        sum(new_error_count) as new_error_count,
        sum(case when is_matched then new_device_days else 0 end) as matched_new_device_days,
        sum(case when is_matched then new_error_count else 0 end) as matched_new_error_count,
        sum(case when is_matched then baseline_device_days else 0 end) as baseline_device_days,
        sum(case when is_matched then baseline_error_count else 0 end) as baseline_error_count,
        sum(case when is_matched then 1 else 0 end) as matched_cohort_count,
        sum(case when is_matched then 0 else 1 end) as unmatched_cohort_count
    from fct_canary_cohort_days
    group by release_id, days_since_release

),

zero_filled as (

    select
        release_day_spine.release_id,
        release_day_spine.platform_id,
        release_day_spine.previous_release_id,
        release_day_spine.days_since_release,
        release_day_spine.activity_date,
        {% for column in [
            'new_device_days', 'new_error_count', 'matched_new_device_days',
            'matched_new_error_count', 'baseline_device_days', 'baseline_error_count',
            'matched_cohort_count', 'unmatched_cohort_count',
        ] %}
        cast(coalesce(daily_totals.{{ column }}, 0) as {{ dbt.type_bigint() }}) as {{ column }},
        {% endfor %}
        release_day_spine.previous_release_id is not null as has_previous_release
    from release_day_spine
    left join daily_totals
        on
            release_day_spine.release_id = daily_totals.release_id
            and release_day_spine.days_since_release = daily_totals.days_since_release

),

accumulated as (

    select
        *,
        new_device_days - matched_new_device_days as unmatched_new_device_days,
        new_error_count - matched_new_error_count as unmatched_new_error_count,
        {% for column in [
            'matched_new_device_days', 'matched_new_error_count',
            'baseline_device_days', 'baseline_error_count',
        ] %}
        sum({{ column }}) over (
            partition by release_id order by days_since_release
            rows between unbounded preceding and current row
        ) as cumulative_{{ column }},
        {% endfor %}
        sum(new_device_days) over (
            partition by release_id order by days_since_release
            rows between unbounded preceding and current row
        ) as cumulative_new_device_days
    from zero_filled

),

described as (

    select
        release_id,
        platform_id,
        previous_release_id,
        has_previous_release,
        days_since_release,
        activity_date,
        new_device_days,
        new_error_count,
        matched_new_device_days,
        matched_new_error_count,
        baseline_device_days,
        baseline_error_count,
        unmatched_new_device_days,
        unmatched_new_error_count,
        matched_cohort_count,
        unmatched_cohort_count,
        cast(cumulative_new_device_days as {{ dbt.type_bigint() }}) as cumulative_new_device_days,
        cast(
            cumulative_matched_new_device_days as {{ dbt.type_bigint() }}
        ) as cumulative_matched_new_device_days,
        cast(
            cumulative_matched_new_error_count as {{ dbt.type_bigint() }}
        ) as cumulative_matched_new_error_count,
        cast(
            cumulative_baseline_device_days as {{ dbt.type_bigint() }}
        ) as cumulative_baseline_device_days,
        cast(
            cumulative_baseline_error_count as {{ dbt.type_bigint() }}
        ) as cumulative_baseline_error_count,
        (1.0 * cumulative_matched_new_error_count / nullif(cumulative_matched_new_device_days, 0))
        / nullif(
            1.0 * cumulative_baseline_error_count / nullif(cumulative_baseline_device_days, 0), 0
        ) as cumulative_error_rate_ratio,
        case
            when not has_previous_release then 'no_previous_release'
            when cumulative_new_device_days = 0 then 'no_exposure'
            when cumulative_matched_new_device_days = 0 then 'no_matched_baseline'
            else 'matched'
        end as comparison_status
    from accumulated

)

select * from described
