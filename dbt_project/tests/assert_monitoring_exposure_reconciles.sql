{#- Apportioning by age band neither loses nor invents exposure or errors: per release, the
    banded device-days and errors add up to the cohort-day totals. -#}
with

banded as (

    select
        release_id,
        sum(device_days) as device_days,
        sum(error_count) as error_count
    from {{ ref('int_cohort_age_band_months_apportioned') }}
    group by release_id

),

cohort_days as (

    select
        release_id,
        sum(device_days) as device_days,
        sum(error_count) as error_count
    from {{ ref('int_release_cohort_days_aggregated') }}
    group by release_id

)

select
    coalesce(banded.release_id, cohort_days.release_id) as release_id,
    banded.device_days as banded_device_days,
    cohort_days.device_days as cohort_device_days,
    banded.error_count as banded_error_count,
    cohort_days.error_count as cohort_error_count
from banded
full outer join cohort_days on banded.release_id = cohort_days.release_id
where
    banded.release_id is null
    or cohort_days.release_id is null
    or abs(banded.device_days - cohort_days.device_days) > 0.001
    or banded.error_count <> cohort_days.error_count
