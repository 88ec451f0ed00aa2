{#- One raw fault class: fails for every row of fct_quarantined_raw_rows from `source_table`
    with `reason`. Its severity is the var `raw_fault_severity` (error fails the build; warn
    lets it go on with the rows quarantined). -#}
{% test raw_fault(model, source_table, reason) %}

    {{ config(severity=var('raw_fault_severity')) }}

    select *
    from {{ model }}
    where source_table = '{{ source_table }}' and rejection_reason = '{{ reason }}'

{% endtest %}
