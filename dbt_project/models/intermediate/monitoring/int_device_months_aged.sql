{#- Each device's age and age band in each calendar month of the data, taken at the month's
    15th (a device made later in the month counts from that month, at age 0). -#}
with

int_devices_screened as (

    select * from {{ ref('int_devices_screened') }}
    where rejection_reason is null

),

int_release_cohort_days_aggregated as (

    select * from {{ ref('int_release_cohort_days_aggregated') }}

),

activity_months as (

    select distinct
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as activity_month
    from int_release_cohort_days_aggregated

),

device_months as (

    select
        int_devices_screened.device_id,
        int_devices_screened.device_model_id,
        int_devices_screened.region,
        activity_months.activity_month,
        greatest(
            {{ dbt.datediff(
                'int_devices_screened.manufacture_date',
                dbt.dateadd('day', 14, 'activity_months.activity_month'),
                'day',
            ) }},
            0
        ) / 365.25 as device_age_years
    from int_devices_screened
    inner join activity_months
        on
            int_devices_screened.manufacture_date
            < {{ dbt.dateadd('month', 1, 'activity_months.activity_month') }}

),

banded as (

    select
        device_id,
        device_model_id,
        region,
        activity_month,
        device_age_years,
        {{ device_age_band('device_age_years') }} as device_age_band,
        cast(
            {{ device_age_band_min_years("device_age_years") }} as double
        ) as device_age_band_min_years
    from device_months

)

select * from banded
