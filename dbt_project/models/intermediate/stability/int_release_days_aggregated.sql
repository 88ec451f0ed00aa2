{#- Exposure and errors per release and day (the cohorts rolled up). -#}
with

int_release_cohort_days_aggregated as (

    select * from {{ ref('int_release_cohort_days_aggregated') }}

),

release_days as (

    select
        release_id,
        platform_id,
        activity_date,
        days_since_release,
        cast(sum(device_days) as {{ dbt.type_bigint() }}) as device_days,
        cast(sum(error_count) as {{ dbt.type_bigint() }}) as error_count,
        cast(sum(crash_error_count) as {{ dbt.type_bigint() }}) as crash_error_count
    from int_release_cohort_days_aggregated
    group by release_id, platform_id, activity_date, days_since_release

)

select * from release_days
