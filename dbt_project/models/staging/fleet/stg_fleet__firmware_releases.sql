{#- Two fault columns: raw_value_fault (the release cannot be placed: excluded) and
    count_value_fault (only its counts are unusable: nulled, see int_firmware_releases_screened). -#}
{%- set release_date_types = {'release_date': 'date'} %}
{%- set count_types = {
    'files_changed': dbt.type_int(),
    'lines_added': dbt.type_int(),
    'lines_deleted': dbt.type_int(),
    'package_size_kb': dbt.type_int(),
    'test_files_changed': dbt.type_int(),
} %}

with

source as (

    select * from {{ source('fleet', 'firmware_releases') }}

),

renamed as (

    select
        cast(release_id as {{ dbt.type_string() }}) as release_id,
        cast(platform_id as {{ dbt.type_string() }}) as platform_id,
        cast(version as {{ dbt.type_string() }}) as version,
        cast(patch_type as {{ dbt.type_string() }}) as patch_type,
        {{ dbt.safe_cast('files_changed', count_types.files_changed) }} as files_changed,
        {{ dbt.safe_cast('lines_added', count_types.lines_added) }} as lines_added,
        {{ dbt.safe_cast('lines_deleted', count_types.lines_deleted) }} as lines_deleted,
        cast(components_touched as {{ dbt.type_string() }}) as components_touched,
        {{ dbt.safe_cast('package_size_kb', count_types.package_size_kb) }} as package_size_kb,
        {{ dbt.safe_cast('test_files_changed', count_types.test_files_changed) }}
            as test_files_changed,
        {{ dbt.safe_cast('release_date', release_date_types.release_date) }} as release_date,
        {{ raw_value_fault(['release_id', 'version', 'release_date'], release_date_types) }}
            as raw_value_fault,
        {{ raw_value_fault(count_types | list, count_types) }} as count_value_fault
    from source

),

parsed as (

    select
        *,
        {{ dbt.safe_cast(dbt.split_part('version', "'.'", 1), dbt.type_int()) }}
            as version_major,
        {{ dbt.safe_cast(dbt.split_part('version', "'.'", 2), dbt.type_int()) }}
            as version_minor,
        {{ dbt.safe_cast(dbt.split_part('version', "'.'", 3), dbt.type_int()) }}
            as version_patch,
        lines_added + lines_deleted as lines_changed,
        case
            when components_touched is null or components_touched = '' then 0
            else length(components_touched) - length(replace(components_touched, '|', '')) + 1
        end as component_count
    from renamed

)

select * from parsed
