"""`patchrisk generate`: a deterministic simulated fleet with a hidden causal truth.

``ml.generate.world.generate_world`` writes the raw tables (docs/raw-telemetry.md) and
the oracle file ``oracle/release_truth`` that no dbt model reads. This package root stays
import-light (configuration only) so that the CLI starts fast.
"""

from ml.generate.config import ConfigError, WorldConfig

__all__ = ["ConfigError", "WorldConfig"]
