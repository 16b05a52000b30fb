"""predictd's Python side: the scikit-learn exporter (predictd.export) and the demo models
(predictd.demo) that models/build.py writes and the benchmarks train.

Owns nothing at import time: submodules import scikit-learn lazily where they can."""

__all__ = ["export", "demo"]
