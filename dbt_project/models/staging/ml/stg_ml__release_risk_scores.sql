with

source as (

    select * from {{ source('ml', 'release_risk_scores') }}

),

renamed as (

    select
        cast(release_id as {{ dbt.type_string() }}) as release_id,
        cast(platform_id as {{ dbt.type_string() }}) as platform_id,
        cast(release_date as date) as release_date,
        cast(regression_probability as {{ type_double() }}) as regression_probability,
        cast(
            predicted_errors_per_10k_device_days as {{ type_double() }}
        ) as predicted_errors_per_10k_device_days,
        cast(decision as {{ dbt.type_string() }}) as decision,
        cast(model_version as {{ dbt.type_string() }}) as model_version,
        cast(top_factors as {{ dbt.type_string() }}) as top_factors,
        cast(scored_at as {{ dbt.type_timestamp() }}) as scored_at
    from source

)

select * from renamed
