with

source as (

    select * from {{ source('ml', 'drift_history') }}

),

renamed as (

    select
        cast(checked_at as {{ dbt.type_timestamp() }}) as checked_at,
        cast(model_version as {{ dbt.type_string() }}) as model_version,
        cast(window_start_date as date) as window_start_date,
        cast(window_end_date as date) as window_end_date,
        cast(reference_rows as {{ dbt.type_int() }}) as reference_rows,
        cast(window_rows as {{ dbt.type_int() }}) as window_rows,
        cast(window_labelled_rows as {{ dbt.type_int() }}) as window_labelled_rows,
        cast(check_name as {{ dbt.type_string() }}) as check_name,
        cast(check_kind as {{ dbt.type_string() }}) as check_kind,
        cast(test_method as {{ dbt.type_string() }}) as test_method,
        cast(statistic as {{ type_double() }}) as statistic,
        cast(p_value as {{ type_double() }}) as p_value,
        cast(adjusted_p_value as {{ type_double() }}) as adjusted_p_value,
        cast(is_voting as {{ dbt.type_boolean() }}) as is_voting,
        cast(is_drifted as {{ dbt.type_boolean() }}) as is_drifted,
        cast(is_window_drifted as {{ dbt.type_boolean() }}) as is_window_drifted
    from source

)

select * from renamed
