{#- Tickets and RMAs by the error code they are attributed to (as-of join); tickets with no
    preceding error in the attribution window are counted under `unattributed`. -#}
with

int_support_tickets_attributed as (

    select * from {{ ref('int_support_tickets_attributed') }}

),

by_error_code as (

    select
        coalesce(attributed_error_code, 'unattributed') as error_code,
        max(attributed_error_category) as error_category,
        is_attributed,
        count(*) as ticket_count,
        sum(case when is_rma then 1 else 0 end) as rma_count,
        count(distinct device_id) as device_count
    from int_support_tickets_attributed
    group by coalesce(attributed_error_code, 'unattributed'), is_attributed

),

rates as (

    select
        error_code,
        error_category,
        is_attributed,
        ticket_count,
        cast(rma_count as {{ dbt.type_bigint() }}) as rma_count,
        device_count,
        1.0 * rma_count / ticket_count as rmas_per_ticket
    from by_error_code

)

select * from rates
