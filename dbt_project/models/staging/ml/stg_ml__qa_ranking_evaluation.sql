with

source as (

    select * from {{ source('ml', 'qa_ranking_evaluation') }}

),

renamed as (

    select
        cast(model_version as {{ dbt.type_string() }}) as model_version,
        cast(ranking as {{ dbt.type_string() }}) as ranking,
        cast(test_releases as {{ dbt.type_int() }}) as test_releases,
        cast(test_regressions as {{ dbt.type_int() }}) as test_regressions,
        cast(recall_at_20pct_effort as {{ type_double() }}) as recall_at_20pct_effort,
        cast(popt as {{ type_double() }}) as popt
    from source

)

select * from renamed
