{#- Releases with raw faults screened. A release that cannot be placed (no key, version or date,
    a duplicate, an unknown platform or patch type) gets a rejection_reason and is kept out of
    the marts. A placed release with an unusable count (missing, unparseable or negative) keeps
    its row, since it ran on devices and its telemetry stays, but all its counts are nulled
    and repair_reason says why. Of several rows with one release_id, or one platform and
    release_date, the first (rows without a raw-value fault first, then by release_id) is kept. -#}
with

stg_fleet__firmware_releases as (

    select * from {{ ref('stg_fleet__firmware_releases') }}

),

int_device_models_screened as (

    select * from {{ ref('int_device_models_screened') }}

),

accepted_platforms as (

    select distinct platform_id
    from int_device_models_screened
    where rejection_reason is null

),

numbered_copies as (

    select
        *,
        row_number() over (
            partition by release_id
            order by
                case when raw_value_fault is null then 0 else 1 end,
                release_date,
                platform_id,
                version
        ) as release_copy_number
    from stg_fleet__firmware_releases

),

numbered as (

    select
        *,
        row_number() over (
            partition by platform_id, release_date
            order by
                case when raw_value_fault is null and release_copy_number = 1 then 0 else 1 end,
                release_id
        ) as platform_day_release_number
    from numbered_copies

),

rejected as (

    select
        numbered.*,
        case
            when numbered.raw_value_fault is not null then numbered.raw_value_fault
            when
                numbered.version_major is null
                or numbered.version_minor is null
                or numbered.version_patch is null
                then 'unparseable_version'
            when numbered.release_copy_number > 1 then 'duplicate_release_id'
            when numbered.platform_day_release_number > 1 then 'duplicate_platform_release_date'
            when accepted_platforms.platform_id is null then 'unknown_platform'
            when
                {{ is_unknown_value(
                    'numbered.patch_type', ['bugfix', 'feature', 'security', 'hotfix']
                ) }}
                then 'unknown_patch_type'
        end as rejection_reason
    from numbered
    left join accepted_platforms
        on numbered.platform_id = accepted_platforms.platform_id

),

repaired as (

    select
        *,
        case
            when rejection_reason is not null then null
            when count_value_fault is not null then count_value_fault
            when
                files_changed < 0
                or lines_added < 0
                or lines_deleted < 0
                or test_files_changed < 0
                then 'negative_code_change_count'
        end as repair_reason
    from rejected

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
        case when repair_reason is null then files_changed end as files_changed,
        case when repair_reason is null then lines_added end as lines_added,
        case when repair_reason is null then lines_deleted end as lines_deleted,
        case when repair_reason is null then lines_changed end as lines_changed,
        components_touched,
        component_count,
        case when repair_reason is null then package_size_kb end as package_size_kb,
        case when repair_reason is null then test_files_changed end as test_files_changed,
        release_date,
        release_copy_number,
        rejection_reason,
        repair_reason
    from repaired

)

select * from screened
