with

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

releases as (

    select
        release_id,
        platform_id,
        version,
        version_major,
        version_minor,
        version_patch,
        version_bump_kind,
        patch_type,
        is_hotfix,
        is_security,
        files_changed,
        lines_added,
        lines_deleted,
        lines_changed,
        components_touched,
        component_count,
        package_size_kb,
        test_files_changed,
        release_date,
        platform_release_number,
        previous_release_id,
        days_since_previous_release,
        repair_reason is not null as has_quarantined_code_change_counts
    from int_firmware_releases_sequenced

)

select * from releases
