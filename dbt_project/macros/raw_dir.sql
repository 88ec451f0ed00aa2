{#- Where the raw telemetry is: the var `raw_dir`, else env PATCHRISK_RAW_DIR, else
    <repo root>/seeds. The repo root is the folder holding profiles.yml with a trailing
    `/dbt_project` removed: dbt finds profiles.yml in the current folder, the repo root or
    dbt_project/ (a symlink), so defaults do not depend on where dbt was started.
    profiles.yml and the fleet source's external_location (which cannot call macros)
    spell out the same rule. -#}
{% macro raw_dir() %}
    {%- set repo_root = modules.re.sub('/dbt_project/?$', '', flags.PROFILES_DIR) -%}
    {{- return(var('raw_dir', env_var('PATCHRISK_RAW_DIR', repo_root ~ '/seeds'))) -}}
{% endmacro %}

{#- on-run-start: refuse a relative raw folder, whose path the staging views would store:
    a reader started in another folder could not query them. -#}
{% macro assert_raw_dir_is_absolute() %}
    {%- if execute and not raw_dir().startswith('/') -%}
        {{- exceptions.raise_compiler_error(
            "the raw data folder '" ~ raw_dir() ~ "' is a relative path (the staging views "
            ~ "store it): pass an absolute raw_dir / PATCHRISK_RAW_DIR, and an absolute "
            ~ "--profiles-dir if you pass one"
        ) -}}
    {%- endif -%}
{% endmacro %}
