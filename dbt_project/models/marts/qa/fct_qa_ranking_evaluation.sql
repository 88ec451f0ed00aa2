{#- The scoring model's QA ranking evaluation on its historical test slice, for BI. -#}
with

stg_ml__qa_ranking_evaluation as (

    select * from {{ ref('stg_ml__qa_ranking_evaluation') }}

)

select
    model_version,
    ranking,
    test_releases,
    test_regressions,
    recall_at_20pct_effort,
    popt
from stg_ml__qa_ranking_evaluation
