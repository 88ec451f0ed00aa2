{#- Every quarantined row's (source_table, reason) has its own raw_fault test (on
    fct_quarantined_raw_rows), so that no fault class can be quarantined without a test that
    names it and fails the build. -#}
{%- set tested = [] %}
{%- if execute %}
{%- for node in graph.nodes.values() if (node.test_metadata or {}).get('name') == 'raw_fault' %}
{%- set fault = node.test_metadata.kwargs %}
{%- do tested.append(fault.source_table ~ '|' ~ fault.reason) %}
{%- endfor %}
{%- endif %}

with

fct_quarantined_raw_rows as (

    select * from {{ ref('fct_quarantined_raw_rows') }}

),

untested as (

    select *
    from fct_quarantined_raw_rows
    where
        {{ dbt.concat(['source_table', "'|'", 'rejection_reason']) }}
        not in ('{{ tested | join("', '") }}')

)

select * from untested
