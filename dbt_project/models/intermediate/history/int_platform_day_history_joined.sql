{#- Release history per platform and context day, as observable strictly before the day (point
    in time): the latest release before the day and its error rate so far, and the labels whose
    window had closed before the day. Both are as-of joins through validity ranges: a state
    that starts after day c and is replaced after day n holds on the days c < day <= n. -#}
with

int_platform_context_days_generated as (

    select * from {{ ref('int_platform_context_days_generated') }}

),

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

int_release_days_aggregated as (

    select * from {{ ref('int_release_days_aggregated') }}

),

int_release_labels_derived as (

    select * from {{ ref('int_release_labels_derived') }}

),

release_validity_ranges as (

    select
        release_id,
        platform_id,
        release_date,
        lead(release_date) over (
            partition by platform_id order by release_date
        ) as next_release_date
    from int_firmware_releases_sequenced

),

previous_releases as (

    select
        int_platform_context_days_generated.platform_id,
        int_platform_context_days_generated.context_date,
        release_validity_ranges.release_id as previous_release_id,
        release_validity_ranges.release_date as previous_release_date
    from int_platform_context_days_generated
    inner join release_validity_ranges
        on
            int_platform_context_days_generated.platform_id = release_validity_ranges.platform_id
            and int_platform_context_days_generated.context_date
            > release_validity_ranges.release_date
            and (
                release_validity_ranges.next_release_date is null
                or int_platform_context_days_generated.context_date
                <= release_validity_ranges.next_release_date
            )

),

previous_release_observed as (

    select
        previous_releases.platform_id,
        previous_releases.context_date,
        sum(int_release_days_aggregated.device_days) as device_days,
        sum(int_release_days_aggregated.error_count) as error_count
    from previous_releases
    inner join int_release_days_aggregated
        on
            previous_releases.previous_release_id = int_release_days_aggregated.release_id
            and previous_releases.context_date > int_release_days_aggregated.activity_date
    group by previous_releases.platform_id, previous_releases.context_date

),

available_labels as (

    select
        release_id,
        platform_id,
        release_date,
        label_available_date,
        is_regression
    from int_release_labels_derived
    where is_label_available

),

label_change_dates as (

    select distinct
        platform_id,
        label_available_date as label_change_date
    from available_labels

),

labels_known_at_change as (

    select
        label_change_dates.platform_id,
        label_change_dates.label_change_date,
        available_labels.release_id as labelled_release_id,
        available_labels.is_regression,
        row_number() over (
            partition by label_change_dates.platform_id, label_change_dates.label_change_date
            order by available_labels.release_date desc
        ) as label_recency_rank
    from label_change_dates
    inner join available_labels
        on
            label_change_dates.platform_id = available_labels.platform_id
            and label_change_dates.label_change_date >= available_labels.label_available_date

),

label_history_at_change as (

    select
        platform_id,
        label_change_date,
        max(
            case when label_recency_rank = 1 then labelled_release_id end
        ) as latest_labelled_release_id,
        max(
            case when label_recency_rank = 1 and is_regression then 1 else 0 end
        ) = 1 as is_latest_labelled_release_regression,
        count(*) as recent_labelled_release_count,
        avg(case when is_regression then 1 else 0 end) as platform_recent_regression_rate
    from labels_known_at_change
    where label_recency_rank <= {{ var('feature_regression_history_releases') }}
    group by platform_id, label_change_date

),

label_history_validity_ranges as (

    select
        *,
        lead(label_change_date) over (
            partition by platform_id order by label_change_date
        ) as next_label_change_date
    from label_history_at_change

),

label_histories as (

    select
        int_platform_context_days_generated.platform_id,
        int_platform_context_days_generated.context_date,
        label_history_validity_ranges.latest_labelled_release_id,
        label_history_validity_ranges.is_latest_labelled_release_regression,
        label_history_validity_ranges.recent_labelled_release_count,
        label_history_validity_ranges.platform_recent_regression_rate
    from int_platform_context_days_generated
    inner join label_history_validity_ranges
        on
            int_platform_context_days_generated.platform_id
            = label_history_validity_ranges.platform_id
            and int_platform_context_days_generated.context_date
            > label_history_validity_ranges.label_change_date
            and (
                label_history_validity_ranges.next_label_change_date is null
                or int_platform_context_days_generated.context_date
                <= label_history_validity_ranges.next_label_change_date
            )

),

history as (

    select
        int_platform_context_days_generated.platform_id,
        int_platform_context_days_generated.context_date,
        previous_releases.previous_release_id,
        previous_releases.previous_release_date,
        10000.0 * previous_release_observed.error_count
        / nullif(previous_release_observed.device_days, 0)
            as previous_release_errors_per_10k_device_days,
        label_histories.latest_labelled_release_id,
        label_histories.is_latest_labelled_release_regression,
        coalesce(label_histories.recent_labelled_release_count, 0)
            as recent_labelled_release_count,
        label_histories.platform_recent_regression_rate
    from int_platform_context_days_generated
    left join previous_releases
        on
            int_platform_context_days_generated.platform_id = previous_releases.platform_id
            and int_platform_context_days_generated.context_date = previous_releases.context_date
    left join previous_release_observed
        on
            int_platform_context_days_generated.platform_id
            = previous_release_observed.platform_id
            and int_platform_context_days_generated.context_date
            = previous_release_observed.context_date
    left join label_histories
        on
            int_platform_context_days_generated.platform_id = label_histories.platform_id
            and int_platform_context_days_generated.context_date = label_histories.context_date

)

select * from history
