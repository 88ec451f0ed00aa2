{#- ML-facing, point-in-time correct: every feature uses only data observable strictly before
    the release's release_date. Attributes come from the release row alone; history and context
    are the platform's row of fct_platform_daily_context on the release_date (the same row a
    candidate patch planned for that day gets in the CI gate); left-joined, so that a release
    without a context row fails the not-null constraints instead of vanishing. The last three
    columns are labels (targets), not features. -#}
with

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

fct_platform_daily_context as (

    select * from {{ ref('fct_platform_daily_context') }}

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
        cast(
            {{ dbt.datediff(
                'fct_platform_daily_context.previous_release_date',
                'int_firmware_releases_sequenced.release_date',
                'day',
            ) }}
            as {{ dbt.type_int() }}
        ) as days_since_previous_release,
        fct_platform_daily_context.previous_release_errors_per_10k_device_days,
        fct_platform_daily_context.latest_labelled_release_id,
        fct_platform_daily_context.is_latest_labelled_release_regression,
        fct_platform_daily_context.recent_labelled_release_count,
        fct_platform_daily_context.platform_recent_regression_rate,
        fct_platform_daily_context.platform_trailing_errors_per_10k_device_days,
        fct_platform_daily_context.platform_active_devices_day_before,
        fct_platform_daily_context.platform_avg_device_age_days,
        fct_platform_daily_context.platform_share_devices_older_than_3_years,
        fct_platform_daily_context.platform_releases_previous_30_days,
        int_release_labels_derived.is_label_available,
        int_release_labels_derived.is_regression,
        int_release_labels_derived.post_release_errors_per_10k_device_days
    from int_firmware_releases_sequenced
    left join fct_platform_daily_context
        on
            int_firmware_releases_sequenced.platform_id = fct_platform_daily_context.platform_id
            and int_firmware_releases_sequenced.release_date
            = fct_platform_daily_context.context_date
    inner join int_release_labels_derived
        on int_firmware_releases_sequenced.release_id = int_release_labels_derived.release_id

)

select * from features
