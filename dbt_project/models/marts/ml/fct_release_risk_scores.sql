{#- The latest risk scores, one row per scored release: the public face of ml.release_risk_scores
    for BI and the semantic layer. -#}
with

stg_ml__release_risk_scores as (

    select * from {{ ref('stg_ml__release_risk_scores') }}

)

select * from stg_ml__release_risk_scores
