with

stg_fleet__firmware_releases as (

    select * from {{ ref('stg_fleet__firmware_releases') }}

),

flagged as (

    select
        *,
        coalesce(files_changed < 0 or lines_added < 0 or lines_deleted < 0, false)
            as has_negative_code_change_count
    from stg_fleet__firmware_releases

),

screened as (

    select
        release_id,
        platform_id,
        version,
        version_major,
        version_minor,
        version_patch,
        patch_type,
        case when not has_negative_code_change_count then files_changed end as files_changed,
        case when not has_negative_code_change_count then lines_added end as lines_added,
        case when not has_negative_code_change_count then lines_deleted end as lines_deleted,
        case when not has_negative_code_change_count then lines_changed end as lines_changed,
        components_touched,
        component_count,
        package_size_kb,
        test_files_changed,
        release_date,
        case
            when has_negative_code_change_count then 'negative_code_change_count'
        end as quarantine_reason
    from flagged

)

select * from screened
