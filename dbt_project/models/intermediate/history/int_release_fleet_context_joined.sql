{#- Platform and fleet context as observable strictly before each release's release_date. -#}
with

int_firmware_releases_sequenced as (

    select * from {{ ref('int_firmware_releases_sequenced') }}

),

int_platform_days_aggregated as (

    select * from {{ ref('int_platform_days_aggregated') }}

),

stg_fleet__devices as (

    select * from {{ ref('stg_fleet__devices') }}

),

stg_fleet__device_models as (

    select * from {{ ref('stg_fleet__device_models') }}

),

trailing_platform_activity as (

    select
        int_firmware_releases_sequenced.release_id,
        sum(int_platform_days_aggregated.device_days) as device_days,
        sum(int_platform_days_aggregated.error_count) as error_count,
        sum(
            case
                when
                    int_platform_days_aggregated.activity_date
                    = {{ dbt.dateadd('day', -1, 'int_firmware_releases_sequenced.release_date') }}
                    then int_platform_days_aggregated.device_days
            end
        ) as day_before_device_days
    from int_firmware_releases_sequenced
    inner join int_platform_days_aggregated
        on
            int_firmware_releases_sequenced.platform_id = int_platform_days_aggregated.platform_id
            and int_firmware_releases_sequenced.release_date
            > int_platform_days_aggregated.activity_date
            and {{ dbt.dateadd(
                'day',
                -var('feature_trailing_window_days'),
                'int_firmware_releases_sequenced.release_date',
            ) }} <= int_platform_days_aggregated.activity_date
    group by int_firmware_releases_sequenced.release_id

),

platform_devices as (

    select
        stg_fleet__devices.device_id,
        stg_fleet__devices.manufacture_date,
        stg_fleet__device_models.platform_id
    from stg_fleet__devices
    inner join stg_fleet__device_models
        on stg_fleet__devices.device_model_id = stg_fleet__device_models.device_model_id

),

device_ages as (

    select
        int_firmware_releases_sequenced.release_id,
        {{ dbt.datediff(
            'platform_devices.manufacture_date', 'int_firmware_releases_sequenced.release_date', 'day'
        ) }} as device_age_days
    from int_firmware_releases_sequenced
    inner join platform_devices
        on
            int_firmware_releases_sequenced.platform_id = platform_devices.platform_id
            and int_firmware_releases_sequenced.release_date > platform_devices.manufacture_date

),

fleet_ages as (

    select
        release_id,
        avg(device_age_days) as platform_avg_device_age_days,
        avg(
            case when device_age_days > 3 * 365 then 1.0 else 0.0 end
        ) as platform_share_devices_older_than_3_years
    from device_ages
    group by release_id

),

recent_releases as (

    select
        int_firmware_releases_sequenced.release_id,
        count(earlier_releases.release_id) as platform_releases_previous_30_days
    from int_firmware_releases_sequenced
    left join int_firmware_releases_sequenced as earlier_releases
        on
            int_firmware_releases_sequenced.platform_id = earlier_releases.platform_id
            and int_firmware_releases_sequenced.release_date > earlier_releases.release_date
            and {{ dbt.dateadd(
                'day',
                -var('feature_recent_releases_window_days'),
                'int_firmware_releases_sequenced.release_date',
            ) }} <= earlier_releases.release_date
    group by int_firmware_releases_sequenced.release_id

),

context as (

    select
        int_firmware_releases_sequenced.release_id,
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
    from int_firmware_releases_sequenced
    left join trailing_platform_activity
        on int_firmware_releases_sequenced.release_id = trailing_platform_activity.release_id
    left join fleet_ages
        on int_firmware_releases_sequenced.release_id = fleet_ages.release_id
    inner join recent_releases
        on int_firmware_releases_sequenced.release_id = recent_releases.release_id

)

select * from context
