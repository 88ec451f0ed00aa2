{#- Post-release outcome and regression label per release; see docs `regression_label_rule`. -#}
with

int_release_windows_aggregated as (

    select * from {{ ref('int_release_windows_aggregated') }}

),

int_release_labels_derived as (

    select * from {{ ref('int_release_labels_derived') }}

),

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

int_support_tickets_attributed as (

    select * from {{ ref('int_support_tickets_attributed') }}

),

int_platform_days_scored as (

    select * from {{ ref('int_platform_days_scored') }}

),

window_tickets as (

    select
        int_release_windows_aggregated.release_id,
        count(*) as ticket_count,
        sum(case when int_support_tickets_attributed.is_rma then 1 else 0 end) as rma_count
    from int_release_windows_aggregated
    inner join int_support_tickets_attributed
        on
            int_release_windows_aggregated.release_id
            = int_support_tickets_attributed.attributed_release_id
            and cast(int_support_tickets_attributed.attributed_event_occurred_at as date)
            between int_release_windows_aggregated.release_date
            and int_release_windows_aggregated.window_end_date
    group by int_release_windows_aggregated.release_id

),

window_spikes as (

    select
        int_release_windows_aggregated.release_id,
        count(*) as spike_day_count
    from int_release_windows_aggregated
    inner join int_platform_days_scored
        on
            int_release_windows_aggregated.platform_id = int_platform_days_scored.platform_id
            and int_platform_days_scored.is_spike
            and int_platform_days_scored.activity_date
            between int_release_windows_aggregated.release_date
            and int_release_windows_aggregated.window_end_date
    group by int_release_windows_aggregated.release_id

),

outcomes as (

    select
        int_release_windows_aggregated.release_id,
        int_release_windows_aggregated.platform_id,
        int_release_windows_aggregated.release_date,
        int_release_windows_aggregated.window_end_date,
        int_release_windows_aggregated.label_available_date,
        int_release_windows_aggregated.is_window_closed,
        int_release_windows_aggregated.window_device_days,
        int_release_windows_aggregated.window_error_count,
        int_release_windows_aggregated.window_crash_error_count,
        int_release_windows_aggregated.window_crash_share,
        int_release_windows_aggregated.post_release_errors_per_10k_device_days,
        int_firmware_releases_sequenced.previous_release_id,
        int_release_windows_aggregated.post_release_errors_per_10k_device_days
        / nullif(previous_windows.post_release_errors_per_10k_device_days, 0)
            as errors_rate_ratio_to_previous_release,
        cast(coalesce(window_tickets.ticket_count, 0) as {{ dbt.type_bigint() }})
            as window_ticket_count,
        cast(coalesce(window_tickets.rma_count, 0) as {{ dbt.type_bigint() }})
            as window_rma_count,
        10000.0 * coalesce(window_tickets.rma_count, 0)
        / nullif(int_release_windows_aggregated.window_device_days, 0)
            as window_rmas_per_10k_device_days,
        cast(coalesce(window_spikes.spike_day_count, 0) as {{ dbt.type_bigint() }})
            as window_spike_day_count,
        int_release_labels_derived.baseline_release_count,
        int_release_labels_derived.baseline_errors_per_10k_device_days,
        int_release_labels_derived.errors_rate_ratio_to_baseline,
        int_release_labels_derived.is_label_available,
        int_release_labels_derived.is_regression
    from int_release_windows_aggregated
    inner join int_release_labels_derived
        on int_release_windows_aggregated.release_id = int_release_labels_derived.release_id
    inner join int_firmware_releases_sequenced
        on int_release_windows_aggregated.release_id = int_firmware_releases_sequenced.release_id
    left join int_release_windows_aggregated as previous_windows
        on int_firmware_releases_sequenced.previous_release_id = previous_windows.release_id
    left join window_tickets
        on int_release_windows_aggregated.release_id = window_tickets.release_id
    left join window_spikes
        on int_release_windows_aggregated.release_id = window_spikes.release_id

)

select * from outcomes
