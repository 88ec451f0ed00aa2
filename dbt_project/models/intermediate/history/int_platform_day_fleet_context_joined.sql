{#- Platform and fleet context per platform and context day, as observable strictly before the
    day: trailing error rate, active devices the day before, fleet age, recent release cadence. -#}
with

int_platform_context_days_generated as (

    select * from {{ ref('int_platform_context_days_generated') }}

),

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

int_platform_days_aggregated as (

    select * from {{ ref('int_platform_days_aggregated') }}

),

int_devices_screened as (

    select * from {{ ref('int_devices_screened') }}
    where rejection_reason is null

),

int_device_models_screened as (

    select * from {{ ref('int_device_models_screened') }}
    where rejection_reason is null

),

trailing_platform_activity as (

    select
        int_platform_context_days_generated.platform_id,
        int_platform_context_days_generated.context_date,
        sum(int_platform_days_aggregated.device_days) as device_days,
        sum(int_platform_days_aggregated.error_count) as error_count,
        sum(
            case
                when
                    int_platform_days_aggregated.activity_date
                    = {{ dbt.dateadd(
                        'day', -1, 'int_platform_context_days_generated.context_date'
                    ) }}
                    then int_platform_days_aggregated.device_days
            end
        ) as day_before_device_days
    from int_platform_context_days_generated
    inner join int_platform_days_aggregated
        on
            int_platform_context_days_generated.platform_id
            = int_platform_days_aggregated.platform_id
            and int_platform_context_days_generated.context_date
            > int_platform_days_aggregated.activity_date
            and {{ dbt.dateadd(
                'day',
                -var('feature_trailing_window_days'),
                'int_platform_context_days_generated.context_date',
            ) }} <= int_platform_days_aggregated.activity_date
    group by
        int_platform_context_days_generated.platform_id,
        int_platform_context_days_generated.context_date

),

platform_manufacture_days as (

    {#- Devices per platform and manufacture day: the fleet's age on a day is a weighted mean
        over these (thousands of rows) instead of over every device on every day. #}
    select
        int_device_models_screened.platform_id,
        int_devices_screened.manufacture_date,
        count(*) as device_count
    from int_devices_screened
    inner join int_device_models_screened
        on int_devices_screened.device_model_id = int_device_models_screened.device_model_id
    group by int_device_models_screened.platform_id, int_devices_screened.manufacture_date

),

device_ages as (

    select
        int_platform_context_days_generated.platform_id,
        int_platform_context_days_generated.context_date,
        platform_manufacture_days.device_count,
        {{ dbt.datediff(
            'platform_manufacture_days.manufacture_date',
            'int_platform_context_days_generated.context_date',
            'day',
        ) }} as device_age_days
    from int_platform_context_days_generated
    inner join platform_manufacture_days
        on
            int_platform_context_days_generated.platform_id = platform_manufacture_days.platform_id
            and int_platform_context_days_generated.context_date
            > platform_manufacture_days.manufacture_date

),

fleet_ages as (

    select
        platform_id,
        context_date,
        cast(sum(device_count * device_age_days) as {{ type_double() }})
        / sum(device_count) as platform_avg_device_age_days,
        cast(
            sum(case when device_age_days > 3 * 365 then device_count else 0 end)
            as {{ type_double() }}
        ) / sum(device_count) as platform_share_devices_older_than_3_years
    from device_ages
    group by platform_id, context_date

),

recent_releases as (

    select
        int_platform_context_days_generated.platform_id,
        int_platform_context_days_generated.context_date,
        count(int_firmware_releases_sequenced.release_id) as platform_releases_previous_30_days
    from int_platform_context_days_generated
    left join int_firmware_releases_sequenced
        on
            int_platform_context_days_generated.platform_id
            = int_firmware_releases_sequenced.platform_id
            and int_platform_context_days_generated.context_date
            > int_firmware_releases_sequenced.release_date
            and {{ dbt.dateadd(
                'day',
                -var('feature_recent_releases_window_days'),
                'int_platform_context_days_generated.context_date',
            ) }} <= int_firmware_releases_sequenced.release_date
    group by
        int_platform_context_days_generated.platform_id,
        int_platform_context_days_generated.context_date

),

context as (

    select
        int_platform_context_days_generated.platform_id,
        int_platform_context_days_generated.context_date,
        10000.0 * trailing_platform_activity.error_count
        / nullif(trailing_platform_activity.device_days, 0)
            as platform_trailing_errors_per_10k_device_days,
        cast(
            coalesce(trailing_platform_activity.day_before_device_days, 0)
            as {{ dbt.type_bigint() }}
        ) as platform_active_devices_day_before,
        fleet_ages.platform_avg_device_age_days,
        fleet_ages.platform_share_devices_older_than_3_years,
        recent_releases.platform_releases_previous_30_days
    from int_platform_context_days_generated
    left join trailing_platform_activity
        on
            int_platform_context_days_generated.platform_id
            = trailing_platform_activity.platform_id
            and int_platform_context_days_generated.context_date
            = trailing_platform_activity.context_date
    left join fleet_ages
        on
            int_platform_context_days_generated.platform_id = fleet_ages.platform_id
            and int_platform_context_days_generated.context_date = fleet_ages.context_date
    inner join recent_releases
        on
            int_platform_context_days_generated.platform_id = recent_releases.platform_id
            and int_platform_context_days_generated.context_date = recent_releases.context_date

)

select * from context
