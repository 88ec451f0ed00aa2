{#- The device-age effect on the error rate, estimated from the telemetry: a within-cohort
    weighted least-squares slope of ln(errors per device-day) on mean device age (years).
    Cells are device model x region x month x age band with at least
    `monitor_age_fit_min_cell_device_days` device-days; groups are device model x region x
    month, so firmware, season and calendar drift cancel (every band of a cohort-month runs the
    same firmware mix). y = ln((errors + 0.5) / device-days), weight = errors + 0.5 (the inverse
    variance of a Poisson log rate); the standard error is scaled by the overdispersion
    (at least 1). No within-cohort age contrast gives a null slope. -#}
with

int_cohort_age_band_months_apportioned as (

    select * from {{ ref('int_cohort_age_band_months_apportioned') }}

),

int_data_bounds_computed as (

    select * from {{ ref('int_data_bounds_computed') }}

),

cohort_band_months as (

    select
        device_model_id,
        region,
        activity_month,
        device_age_band,
        avg(mean_device_age_years) as mean_device_age_years,
        sum(device_days) as device_days,
        sum(error_count) as error_count
    from int_cohort_age_band_months_apportioned
    where mean_device_age_years is not null
    group by device_model_id, region, activity_month, device_age_band

),

fleet_age as (

    select
        sum(device_days * mean_device_age_years)
        / nullif(sum(device_days), 0) as fleet_mean_device_age_years
    from cohort_band_months

),

fit_cells as (

    select
        device_model_id,
        region,
        activity_month,
        mean_device_age_years as age_years,
        ln((error_count + 0.5) / device_days) as log_rate,
        error_count + 0.5 as fit_weight,
        device_days,
        error_count
    from cohort_band_months
    where device_days >= {{ var('monitor_age_fit_min_cell_device_days') }}

),

centred as (

    select
        *,
        age_years - sum(fit_weight * age_years) over (
            partition by device_model_id, region, activity_month
        ) / sum(fit_weight) over (
            partition by device_model_id, region, activity_month
        ) as age_centred,
        log_rate - sum(fit_weight * log_rate) over (
            partition by device_model_id, region, activity_month
        ) / sum(fit_weight) over (
            partition by device_model_id, region, activity_month
        ) as log_rate_centred
    from fit_cells

),

fit_groups as (

    select count(*) as fit_group_count
    from (
        select distinct
            device_model_id,
            region,
            activity_month
        from fit_cells
    ) as cohort_months

),

slope as (

    select
        sum(fit_weight * age_centred * log_rate_centred)
        / nullif(sum(fit_weight * age_centred * age_centred), 0) as log_rate_slope_per_year,
        sum(fit_weight * age_centred * age_centred) as age_sum_of_squares,
        count(*) as fit_cell_count,
        sum(error_count) as fit_error_count,
        sum(device_days) as fit_device_days
    from centred

),

residuals as (

    select
        sum(
            centred.fit_weight
            * power(
                centred.log_rate_centred - slope.log_rate_slope_per_year * centred.age_centred, 2
            )
        ) as weighted_residual_sum_of_squares
    from centred
    cross join slope

),

estimate as (

    select
        int_data_bounds_computed.as_of_date,
        slope.log_rate_slope_per_year,
        slope.age_sum_of_squares,
        slope.fit_cell_count,
        fit_groups.fit_group_count,
        slope.fit_error_count,
        slope.fit_device_days,
        fleet_age.fleet_mean_device_age_years,
        greatest(
            1.0,
            coalesce(
                residuals.weighted_residual_sum_of_squares
                / nullif(slope.fit_cell_count - fit_groups.fit_group_count - 1, 0),
                1.0
            )
        ) as overdispersion
    from int_data_bounds_computed
    cross join slope
    cross join fit_groups
    cross join residuals
    cross join fleet_age

),

published as (

    select
        as_of_date,
        round(log_rate_slope_per_year, 6) as log_rate_slope_per_year,
        round(sqrt(overdispersion / nullif(age_sum_of_squares, 0)), 6)
            as log_rate_slope_standard_error,
        round(exp(log_rate_slope_per_year), 6) as rate_multiplier_per_year,
        round(fleet_mean_device_age_years, 6) as fleet_mean_device_age_years,
        cast(fit_cell_count as {{ dbt.type_bigint() }}) as fit_cell_count,
        cast(fit_group_count as {{ dbt.type_bigint() }}) as fit_group_count,
        cast(coalesce(fit_error_count, 0) as {{ dbt.type_bigint() }}) as fit_error_count,
        coalesce(fit_device_days, 0.0) as fit_device_days,
        round(overdispersion, 6) as overdispersion
    from estimate

)

select * from published
