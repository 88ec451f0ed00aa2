"""The warehouse: dbt builds of the DuckDB file, reads of its marts, Parquet exports.

May import: ml.errors, ml.failpoints. Everything above (modeling, gate, operations,
report, cli) reaches the warehouse only through this package.
"""
