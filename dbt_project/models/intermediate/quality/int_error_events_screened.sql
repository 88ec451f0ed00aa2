{#- Incremental (delete+insert per screening_batch_date): an incremental run re-screens only
    the raw events from `incremental_lookback_days` before the latest accepted day on (plus
    the events without a parseable occurred_at), so that appending a day of telemetry costs
    that day, not the history. Duplicate event ids are numbered after the copies already
    screened, exactly as a full build numbers them. See docs/warehouse.md, "Incremental builds". -#}
{{ config(
    materialized=day_incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='screening_batch_date',
    on_schema_change='fail',
) }}

{%- set reprocess_from = (
    incremental_reprocess_from_date(this, 'occurred_date', 'rejection_reason is null')
    if is_incremental() else none
) %}
{#- On an incremental run, a copy is numbered after the copies screened on earlier days. -#}
{%- set previous_copies = (
    'coalesce(previously_screened_copies.screened_copy_count, 0) +' if is_incremental() else ''
) %}
{%- set previous_copies_join = (
    'left join previously_screened_copies on events_to_screen.event_id'
    ~ ' is not distinct from previously_screened_copies.event_id'
    if is_incremental() else ''
) %}

with

stg_fleet__error_events as (

    select * from {{ ref('stg_fleet__error_events') }}

),

int_devices_screened as (

    select * from {{ ref('int_devices_screened') }}

),

int_firmware_releases_screened as (

    select * from {{ ref('int_firmware_releases_screened') }}

),

int_data_bounds_computed as (

    select * from {{ ref('int_data_bounds_computed') }}

),

accepted_devices as (

    select
        device_id,
        manufacture_date
    from int_devices_screened
    where rejection_reason is null

),

accepted_releases as (

    select release_id
    from int_firmware_releases_screened
    where rejection_reason is null

),

events_to_screen as (

    select * from stg_fleet__error_events
    where occurred_at is null or {{ reprocessed_rows_filter('occurred_date', reprocess_from) }}

),

{% if is_incremental() -%}
batch_event_ids as (

    select distinct event_id from events_to_screen

),

previously_screened_copies as (

    select
        previously_screened.event_id,
        count(*) as screened_copy_count
    from {{ this }} as previously_screened
    inner join batch_event_ids
        on previously_screened.event_id is not distinct from batch_event_ids.event_id
    where
        previously_screened.occurred_at is not null
        and previously_screened.occurred_date < {{ reprocess_from }}
    group by previously_screened.event_id

),

{% endif -%}
repeated_event_ids as (

    {#- Ids with more than one copy in the batch: only their copies need a window to be
        numbered (a window over every event costs ~3x a group-by at 10M events). #}
    select event_id
    from events_to_screen
    where event_id is not null
    group by event_id
    having count(*) > 1

),

numbered as (

    select
        events_to_screen.*,
        {{ previous_copies }} 1 as event_copy_number
    from events_to_screen
    {{ previous_copies_join }}
    where
        events_to_screen.event_id is not null
        and events_to_screen.event_id not in (
            select repeated_event_ids.event_id from repeated_event_ids
        )

    union all

    select
        events_to_screen.*,
        {{ previous_copies }} row_number() over (
            partition by events_to_screen.event_id
            order by
                events_to_screen.occurred_at,
                events_to_screen.device_id,
                events_to_screen.release_id,
                events_to_screen.error_code
        ) as event_copy_number
    from events_to_screen
    {{ previous_copies_join }}
    where
        events_to_screen.event_id is null
        or events_to_screen.event_id in (
            select repeated_event_ids.event_id from repeated_event_ids
        )

),

screened as (

    select
        numbered.event_id,
        numbered.device_id,
        numbered.release_id,
        numbered.occurred_at,
        numbered.error_code,
        numbered.error_category,
        numbered.severity,
        numbered.occurred_date,
        numbered.event_copy_number,
        case
            when numbered.raw_value_fault is not null then numbered.raw_value_fault
            when accepted_devices.device_id is null then 'unknown_device'
            when accepted_releases.release_id is null then 'unknown_release'
            when
                {{ is_unknown_value(
                    'numbered.error_category',
                    ['crash', 'playback', 'network', 'ui', 'power', 'storage'],
                ) }}
                then 'unknown_error_category'
            when
                {{ is_unknown_value('numbered.severity', ['low', 'medium', 'high', 'critical']) }}
                then 'unknown_severity'
            when numbered.event_copy_number > 1 then 'duplicate_event_id'
            when
                numbered.occurred_date < accepted_devices.manufacture_date
                then 'occurred_before_manufacture'
            when
                numbered.occurred_date > int_data_bounds_computed.as_of_date
                then 'occurred_after_as_of_date'
        end as rejection_reason,
        coalesce(numbered.occurred_date, cast('9999-12-31' as date)) as screening_batch_date
    from numbered
    cross join int_data_bounds_computed
    left join accepted_devices
        on numbered.device_id = accepted_devices.device_id
    left join accepted_releases
        on numbered.release_id = accepted_releases.release_id

)

select * from screened
