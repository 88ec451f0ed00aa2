{#- ML-facing, point-in-time correct: every feature uses only data observable strictly before
    the release's release_date. The last three columns are labels (targets), not features. -#}
with

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

int_release_history_joined as (

    select * from {{ ref('int_release_history_joined') }}

),

int_release_fleet_context_joined as (

    select * from {{ ref('int_release_fleet_context_joined') }}

),

int_release_labels_derived as (

    select * from {{ ref('int_release_labels_derived') }}

),

features as (

    select
        int_firmware_releases_sequenced.release_id,
        int_firmware_releases_sequenced.platform_id,
        int_firmware_releases_sequenced.release_date,
        int_firmware_releases_sequenced.patch_type,
        int_firmware_releases_sequenced.is_hotfix,
        int_firmware_releases_sequenced.is_security,
        int_firmware_releases_sequenced.version_bump_kind,
        int_firmware_releases_sequenced.files_changed,
        int_firmware_releases_sequenced.lines_added,
        int_firmware_releases_sequenced.lines_deleted,
        int_firmware_releases_sequenced.lines_changed,
        int_firmware_releases_sequenced.code_churn_score,
        int_firmware_releases_sequenced.component_count,
        {% for component in var('firmware_components') %}
        int_firmware_releases_sequenced.touches_{{ component }},
        {% endfor %}
        int_firmware_releases_sequenced.package_size_kb,
        int_firmware_releases_sequenced.test_files_changed,
        int_firmware_releases_sequenced.test_file_ratio,
        int_firmware_releases_sequenced.days_since_previous_release,
        int_release_history_joined.previous_release_errors_per_10k_device_days,
        int_release_history_joined.latest_labelled_release_id,
        int_release_history_joined.is_latest_labelled_release_regression,
        int_release_history_joined.recent_labelled_release_count,
        int_release_history_joined.platform_recent_regression_rate,
        int_release_fleet_context_joined.platform_trailing_errors_per_10k_device_days,
        int_release_fleet_context_joined.platform_active_devices_day_before,
        int_release_fleet_context_joined.platform_avg_device_age_days,
        int_release_fleet_context_joined.platform_share_devices_older_than_3_years,
        int_release_fleet_context_joined.platform_releases_previous_30_days,
        int_release_labels_derived.is_label_available,
        int_release_labels_derived.is_regression,
        int_release_labels_derived.post_release_errors_per_10k_device_days
    from int_firmware_releases_sequenced
    inner join int_release_history_joined
        on int_firmware_releases_sequenced.release_id = int_release_history_joined.release_id
    inner join int_release_fleet_context_joined
        on int_firmware_releases_sequenced.release_id = int_release_fleet_context_joined.release_id
    inner join int_release_labels_derived
        on int_firmware_releases_sequenced.release_id = int_release_labels_derived.release_id

)

select * from features
