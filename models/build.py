#!/usr/bin/python3
"""Rebuilds the demo models from data that ships with scikit-learn (deterministic):
models/seed.json and models/iris.json; `--heavy OUT.json` also writes the 300-tree,
depth-12 forest used by the benchmarks (large, not committed).

    /usr/bin/python3 models/build.py [--out DIR] [--heavy OUT.json [--trees N --depth D]]

The training functions live in predictd.demo (python/predictd/demo.py) so the FastAPI
reference app and the benchmarks train the very same models; they are re-exported here
for `PYTHONPATH=python:models python3 -c 'import build; build.train_seed()'`."""

import argparse
import os
import sys

_HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "python"))

from predictd.demo import FEATURES, train_heavy_forest, train_iris, train_seed  # noqa: E402
from predictd.export import export  # noqa: E402

__all__ = ["FEATURES", "train_seed", "train_iris", "train_heavy_forest", "build"]


def build(out_dir=_HERE):
    """Trains and exports seed and iris into out_dir; returns the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, train in (("seed", train_seed), ("iris", train_iris)):
        path = os.path.join(out_dir, name + ".json")
        export(train(), path, feature_names=FEATURES[name], name=name)
        paths.append(path)
    return paths


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=_HERE, help="directory for seed.json and iris.json")
    p.add_argument("--heavy", help="also write the heavy forest to this file")
    p.add_argument("--trees", type=int, default=300)
    p.add_argument("--depth", type=int, default=12)
    a = p.parse_args()
    for path in build(a.out):
        print("wrote", path)
    if a.heavy:
        export(train_heavy_forest(a.trees, a.depth), a.heavy, feature_names=FEATURES["heavy"],
               name="heavy")
        print("wrote", a.heavy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
