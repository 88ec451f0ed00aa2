{#- One row per `patchrisk drift` run: the verdict and which checks drifted. -#}
with

stg_ml__drift_history as (

    select * from {{ ref('stg_ml__drift_history') }}

),

drifted_checks as (

    select
        checked_at,
        {{ listagg_sorted('check_name', "', '") }} as drifted_checks
    from stg_ml__drift_history
    where is_drifted and is_voting
    group by checked_at

),

runs as (

    select
        checked_at,
        model_version,
        window_start_date,
        window_end_date,
        reference_rows,
        window_rows,
        window_labelled_rows,
        max(case when is_window_drifted then 1 else 0 end) = 1 as is_drifted,
        sum(case when is_drifted and is_voting then 1 else 0 end) as drifted_check_count,
        sum(case when is_voting then 1 else 0 end) as voting_check_count,
        min(case when is_voting then adjusted_p_value end) as min_adjusted_p_value
    from stg_ml__drift_history
    group by
        checked_at,
        model_version,
        window_start_date,
        window_end_date,
        reference_rows,
        window_rows,
        window_labelled_rows

)

select
    runs.checked_at,
    runs.model_version,
    runs.window_start_date,
    runs.window_end_date,
    runs.reference_rows,
    runs.window_rows,
    runs.window_labelled_rows,
    runs.is_drifted,
    cast(runs.drifted_check_count as {{ dbt.type_int() }}) as drifted_check_count,
    cast(runs.voting_check_count as {{ dbt.type_int() }}) as voting_check_count,
    runs.min_adjusted_p_value,
    drifted_checks.drifted_checks
from runs
left join drifted_checks
    on runs.checked_at = drifted_checks.checked_at
