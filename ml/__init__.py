"""patch-stability-analytics: predict firmware patch regressions before they ship."""

__version__ = "0.1.0"
