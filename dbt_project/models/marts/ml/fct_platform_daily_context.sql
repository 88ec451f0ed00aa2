{#- Point-in-time context per platform and day: every column is observable strictly before
    context_date. A release's history/context features are the row of its platform on its
    release_date; a candidate patch's are the row of its planned date, or the as-of date + 1 row
    (is_after_as_of_date: everything observable now) when that date lies beyond the data. -#}
with

int_platform_context_days_generated as (

    select * from {{ ref('int_platform_context_days_generated') }}

),

int_platform_day_history_joined as (

    select * from {{ ref('int_platform_day_history_joined') }}

),

int_platform_day_fleet_context_joined as (

    select * from {{ ref('int_platform_day_fleet_context_joined') }}

),

daily_context as (

    select
        int_platform_context_days_generated.platform_id,
        int_platform_context_days_generated.context_date,
        int_platform_context_days_generated.is_after_as_of_date,
        int_platform_day_history_joined.previous_release_id,
        int_platform_day_history_joined.previous_release_date,
        int_platform_day_history_joined.previous_release_errors_per_10k_device_days,
        int_platform_day_history_joined.latest_labelled_release_id,
        int_platform_day_history_joined.is_latest_labelled_release_regression,
        int_platform_day_history_joined.recent_labelled_release_count,
        int_platform_day_history_joined.platform_recent_regression_rate,
        int_platform_day_fleet_context_joined.platform_trailing_errors_per_10k_device_days,
        int_platform_day_fleet_context_joined.platform_active_devices_day_before,
        int_platform_day_fleet_context_joined.platform_avg_device_age_days,
        int_platform_day_fleet_context_joined.platform_share_devices_older_than_3_years,
        int_platform_day_fleet_context_joined.platform_releases_previous_30_days
    from int_platform_context_days_generated
    inner join int_platform_day_history_joined
        on
            int_platform_context_days_generated.platform_id
            = int_platform_day_history_joined.platform_id
            and int_platform_context_days_generated.context_date
            = int_platform_day_history_joined.context_date
    inner join int_platform_day_fleet_context_joined
        on
            int_platform_context_days_generated.platform_id
            = int_platform_day_fleet_context_joined.platform_id
            and int_platform_context_days_generated.context_date
            = int_platform_day_fleet_context_joined.context_date

)

select * from daily_context
