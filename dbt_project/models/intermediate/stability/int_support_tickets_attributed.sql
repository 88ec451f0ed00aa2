{#- As-of join: each accepted ticket is attributed to the most recent accepted error event of
    the same device in the `rma_attribution_window_days` before it opened. Incremental
    (delete+insert per opened_date): an incremental run re-attributes the tickets opened from
    `incremental_lookback_days` before the latest day already built on, against the events of
    the attribution window before them. -#}
{{ config(
    materialized=day_incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='opened_date',
    on_schema_change='fail',
) }}

{%- set reprocess_from = (
    incremental_reprocess_from_date(this, 'opened_date') if is_incremental() else none
) %}
{%- set events_from = (
    dbt.dateadd('day', -(var('rma_attribution_window_days') + 1), reprocess_from)
    if is_incremental() else none
) %}

with

int_support_tickets_screened as (

    select * from {{ ref('int_support_tickets_screened') }}

),

int_error_events_screened as (

    select * from {{ ref('int_error_events_screened') }}

),

accepted_tickets as (

    select * from int_support_tickets_screened
    where
        rejection_reason is null
        and {{ reprocessed_rows_filter('opened_date', reprocess_from) }}

),

accepted_events as (

    select * from int_error_events_screened
    where
        rejection_reason is null
        and {{ reprocessed_rows_filter('occurred_date', events_from) }}

),

candidate_events as (

    select
        accepted_tickets.ticket_id,
        accepted_events.event_id,
        accepted_events.release_id,
        accepted_events.error_code,
        accepted_events.error_category,
        accepted_events.occurred_at
    from accepted_tickets
    inner join accepted_events
        on
            accepted_tickets.device_id = accepted_events.device_id
            and accepted_tickets.opened_at > accepted_events.occurred_at
            and {{ dbt.dateadd(
                'day', -var('rma_attribution_window_days'), 'accepted_tickets.opened_at'
            ) }} <= accepted_events.occurred_at

),

latest_candidate_times as (

    select
        ticket_id,
        max(occurred_at) as occurred_at
    from candidate_events
    group by ticket_id

),

latest_candidates as (

    {#- The most recent candidate; of several at that instant, the highest event id. Two
        group-bys instead of a row_number window (about 10x less work at 10M events). #}
    select
        candidate_events.ticket_id,
        max(candidate_events.event_id) as event_id
    from candidate_events
    inner join latest_candidate_times
        on
            candidate_events.ticket_id = latest_candidate_times.ticket_id
            and candidate_events.occurred_at = latest_candidate_times.occurred_at
    group by candidate_events.ticket_id

),

attributed_events as (

    select candidate_events.*
    from candidate_events
    inner join latest_candidates
        on
            candidate_events.ticket_id = latest_candidates.ticket_id
            and candidate_events.event_id = latest_candidates.event_id

),

attributed as (

    select
        accepted_tickets.ticket_id,
        accepted_tickets.device_id,
        accepted_tickets.opened_at,
        accepted_tickets.opened_date,
        accepted_tickets.symptom,
        accepted_tickets.resolution,
        accepted_tickets.is_rma,
        attributed_events.event_id is not null as is_attributed,
        attributed_events.event_id as attributed_event_id,
        attributed_events.occurred_at as attributed_event_occurred_at,
        attributed_events.release_id as attributed_release_id,
        attributed_events.error_code as attributed_error_code,
        attributed_events.error_category as attributed_error_category
    from accepted_tickets
    left join attributed_events
        on accepted_tickets.ticket_id = attributed_events.ticket_id

)

select * from attributed
