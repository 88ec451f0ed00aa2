{#- Release history as observable strictly before each release's release_date (point in time):
    the previous release's error rate so far, and labels whose window had closed. -#}
with

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

int_release_days_aggregated as (

    select * from {{ ref('int_release_days_aggregated') }}

),

int_release_labels_derived as (

    select * from {{ ref('int_release_labels_derived') }}

),

previous_release_observed as (

    select
        int_firmware_releases_sequenced.release_id,
        sum(int_release_days_aggregated.device_days) as device_days,
        sum(int_release_days_aggregated.error_count) as error_count
    from int_firmware_releases_sequenced
    inner join int_release_days_aggregated
        on
            int_firmware_releases_sequenced.previous_release_id
            = int_release_days_aggregated.release_id
            and int_firmware_releases_sequenced.release_date
            > int_release_days_aggregated.activity_date
    group by int_firmware_releases_sequenced.release_id

),

known_labels as (

    select
        int_firmware_releases_sequenced.release_id,
        int_release_labels_derived.release_id as labelled_release_id,
        int_release_labels_derived.is_regression,
        row_number() over (
            partition by int_firmware_releases_sequenced.release_id
            order by int_release_labels_derived.release_date desc
        ) as label_recency_rank
    from int_firmware_releases_sequenced
    inner join int_release_labels_derived
        on
            int_firmware_releases_sequenced.platform_id = int_release_labels_derived.platform_id
            and int_firmware_releases_sequenced.release_date
            > int_release_labels_derived.label_available_date
            and int_release_labels_derived.is_label_available

),

label_history as (

    select
        release_id,
        max(
            case when label_recency_rank = 1 then labelled_release_id end
        ) as latest_labelled_release_id,
        max(
            case when label_recency_rank = 1 and is_regression then 1 else 0 end
        ) = 1 as is_latest_labelled_release_regression,
        count(*) as recent_labelled_release_count,
        avg(case when is_regression then 1.0 else 0.0 end) as platform_recent_regression_rate
    from known_labels
    where label_recency_rank <= {{ var('feature_regression_history_releases') }}
    group by release_id

),

history as (

    select
        int_firmware_releases_sequenced.release_id,
        10000.0 * previous_release_observed.error_count
        / nullif(previous_release_observed.device_days, 0)
            as previous_release_errors_per_10k_device_days,
        label_history.latest_labelled_release_id,
        label_history.is_latest_labelled_release_regression,
        coalesce(label_history.recent_labelled_release_count, 0)
            as recent_labelled_release_count,
        label_history.platform_recent_regression_rate
    from int_firmware_releases_sequenced
    left join previous_release_observed
        on int_firmware_releases_sequenced.release_id = previous_release_observed.release_id
    left join label_history
        on int_firmware_releases_sequenced.release_id = label_history.release_id

)

select * from history
