{#- Support tickets tagged with a rejection_reason (null = accepted; the first matching reason
    wins). Of several rows with one ticket_id, the first (rows without a raw-value fault first,
    then by opened_at) is kept. -#}
with

stg_fleet__support_tickets as (

    select * from {{ ref('stg_fleet__support_tickets') }}

),

int_devices_screened as (

    select * from {{ ref('int_devices_screened') }}

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

numbered as (

    select
        *,
        row_number() over (
            partition by ticket_id
            order by
                case when raw_value_fault is null then 0 else 1 end,
                opened_at,
                device_id
        ) as ticket_copy_number
    from stg_fleet__support_tickets

),

screened as (

    select
        numbered.ticket_id,
        numbered.device_id,
        numbered.opened_at,
        numbered.symptom,
        numbered.resolution,
        numbered.resolved_at,
        numbered.opened_date,
        numbered.is_rma,
        numbered.ticket_copy_number,
        case
            when numbered.raw_value_fault is not null then numbered.raw_value_fault
            when numbered.ticket_copy_number > 1 then 'duplicate_ticket_id'
            when accepted_devices.device_id is null then 'unknown_device'
            when
                {{ is_unknown_value(
                    'numbered.symptom',
                    ['no_video', 'freezes', 'no_network', 'reboots', 'dead_device', 'other'],
                ) }}
                then 'unknown_symptom'
            when
                {{ is_unknown_value(
                    'numbered.resolution', ['remote_fix', 'no_fault_found', 'rma', 'open']
                ) }}
                then 'unknown_resolution'
            when numbered.resolved_at < numbered.opened_at then 'resolved_before_opened'
            when
                numbered.opened_date < accepted_devices.manufacture_date
                then 'opened_before_manufacture'
            when
                numbered.opened_date > int_data_bounds_computed.as_of_date
                then 'opened_after_as_of_date'
        end as rejection_reason
    from numbered
    cross join int_data_bounds_computed
    left join accepted_devices
        on numbered.device_id = accepted_devices.device_id

)

select * from screened
