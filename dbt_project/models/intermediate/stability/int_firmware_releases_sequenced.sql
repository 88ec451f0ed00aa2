with

int_firmware_releases_screened as (

    select * from {{ ref('int_firmware_releases_screened') }}
    where rejection_reason is null

),

sequenced as (

    select
        *,
        row_number() over (
            partition by platform_id order by release_date
        ) as platform_release_number,
        lag(release_id) over (
            partition by platform_id order by release_date
        ) as previous_release_id,
        lag(release_date) over (
            partition by platform_id order by release_date
        ) as previous_release_date,
        lag(version_major) over (
            partition by platform_id order by release_date
        ) as previous_version_major,
        lag(version_minor) over (
            partition by platform_id order by release_date
        ) as previous_version_minor
    from int_firmware_releases_screened

),

described as (

    select
        release_id,
        platform_id,
        version,
        version_major,
        version_minor,
        version_patch,
        case
            when previous_release_id is null then 'initial'
            when version_major > previous_version_major then 'major'
            when version_minor > previous_version_minor then 'minor'
            else 'patch'
        end as version_bump_kind,
        patch_type,
        patch_type = 'hotfix' as is_hotfix,
        patch_type = 'security' as is_security,
        files_changed,
        lines_added,
        lines_deleted,
        lines_changed,
        ln(1 + lines_changed) as code_churn_score,
        components_touched,
        component_count,
        {% for component in var('firmware_components') %}
        coalesce(
            {{ dbt.concat(["'|'", 'components_touched', "'|'"]) }} like '%|{{ component }}|%',
            false
        ) as touches_{{ component }},
        {% endfor %}
        package_size_kb,
        test_files_changed,
        1.0 * test_files_changed
        / nullif(files_changed, 0) as test_file_ratio,
        release_date,
        platform_release_number,
        previous_release_id,
        previous_release_date,
        cast(
            {{ dbt.datediff('previous_release_date', 'release_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_previous_release,
        repair_reason
    from sequenced

)

select * from described
