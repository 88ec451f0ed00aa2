{#- The `loaded_at_query` of every fleet source with a time column: the table's newest day,
    shifted by the gap between the world's as-of date and now, so that `dbt source freshness`
    (which compares a loaded-at time with now) measures how many days the table's newest day
    lies behind the as-of date. The world is simulated in the past, so wall-clock age would
    say nothing; the as-of date is the newest day any of these tables reaches. -#}
{% macro fleet_loaded_at() %}
    {%- set day_columns = {
        'daily_active_devices': 'activity_date',
        'error_events': 'occurred_at',
        'firmware_releases': 'release_date',
        'support_tickets': 'opened_at',
    } -%}
    with

    newest_days as (
        {%- for table, column in day_columns.items() %}
        select
            '{{ table }}' as table_name,
            max(try_cast({{ column }} as date)) as newest_day  -- a faulty raw value: skipped
        from {{ source('fleet', table) }}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ),

    lag_behind_as_of as (
        select
            max(newest_day) filter (where table_name = '{{ model.name }}') as newest_day,
            max(newest_day) as as_of_date
        from newest_days
    )

    select
        {{ dbt.dateadd(
            'day',
            dbt.datediff('as_of_date', 'newest_day', 'day'),
            dbt.current_timestamp()
        ) }}
    from lag_behind_as_of
{% endmacro %}
