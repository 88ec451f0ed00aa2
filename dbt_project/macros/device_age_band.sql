{#- Age band label of an age in years from var `monitor_age_band_edges_years` (ascending
    edges, e.g. [2, 4, 6] -> `0-2y`, `2-4y`, `4-6y`, `6y+`). -#}
{% macro device_age_band(age_years) -%}
    {%- set edges = var('monitor_age_band_edges_years') -%}
    case
        {%- for edge in edges %}
            when {{ age_years }} < {{ edge }}
                then '{{ edges[loop.index0 - 1] if not loop.first else 0 }}-{{ edge }}y'
        {%- endfor %}
        else '{{ edges[-1] }}y+'
    end
{%- endmacro %}

{#- Lower edge (years) of the age band of an age in years; see device_age_band. -#}
{% macro device_age_band_min_years(age_years) -%}
    {%- set edges = var('monitor_age_band_edges_years') -%}
    case
        {%- for edge in edges %}
            when {{ age_years }} < {{ edge }}
                then {{ edges[loop.index0 - 1] if not loop.first else 0 }}
        {%- endfor %}
        else {{ edges[-1] }}
    end
{%- endmacro %}
