"""models_util.py - writes predictd model files (docs/model-format.md) for end-to-end
tests, by hand from Python, so that no test needs scikit-learn to get a model of a given
shape and cost.

What others reuse:
  heavy_mlp_doc(...)          -> dict: a deliberately slow `mlp` on feature1, feature2
  write_model(dir, doc)       -> path of doc written as <dir>/<doc["name"]>.json
  write_heavy_mlp(dir, ...)   -> path of a heavy MLP file (a few MB, loads in about a second)
  heavy_rows(n)               -> n JSON bodies (bytes) for the heavy model, all different

Invariants: every generator is deterministic (fixed seeds) and bounded (the sizes are
checked against the MAX_* limits below), so a test run cannot write an unbounded file.
"""
import json
import os
import random

MAX_WIDTH = 2048            # widest hidden layer a test may ask for
MAX_HIDDEN_LAYERS = 16      # most hidden layers a test may ask for
HEAVY_WIDTH = 512           # default hidden width: ~0.8 M multiply-adds per row ...
HEAVY_HIDDEN_LAYERS = 4     # ... i.e. a few ms per row in the ASan+UBSan debug build
HEAVY_FEATURES = ["feature1", "feature2"]


def _matrix(rng, n_in, n_out):
    # weights in {-1, 0, 1} (integers are valid floats in the format): each costs 2-3
    # bytes of JSON, so a 512x512 layer is well under 1 MB; tanh keeps activations bounded
    return [[rng.choice((-1, 0, 1)) for _ in range(n_out)] for _ in range(n_in)]


def heavy_mlp_doc(name="heavy", width=HEAVY_WIDTH, hidden_layers=HEAVY_HIDDEN_LAYERS,
                  seed=0):
    """A binary classifier `mlp` on HEAVY_FEATURES with `hidden_layers` tanh layers of
    `width` units, classes [0, 1]. Its cost per row grows as hidden_layers * width**2."""
    if not 1 <= width <= MAX_WIDTH or not 1 <= hidden_layers <= MAX_HIDDEN_LAYERS:
        raise ValueError(f"width must be 1..{MAX_WIDTH}, hidden_layers 1..{MAX_HIDDEN_LAYERS}")
    rng = random.Random(seed)
    sizes = [len(HEAVY_FEATURES)] + [width] * hidden_layers + [1]
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        layers.append({"weights": _matrix(rng, n_in, n_out),
                       "bias": [rng.choice((-1, 0, 1)) for _ in range(n_out)]})
    # scale the first layer's inputs so that feature values of ~1 are not saturated
    layers[0]["weights"] = [[w * 0.5 for w in row] for row in layers[0]["weights"]]
    return {
        "format": "predictd-model", "version": 1, "name": name, "model_version": "1",
        "source": "e2e-test", "kind": "MLPClassifier", "task": "classification",
        "features": list(HEAVY_FEATURES), "classes": [0, 1],
        "steps": [{"type": "mlp", "activation": "tanh", "output_activation": "logistic",
                   "layers": layers}],
    }


def write_model(directory, doc):
    """Writes doc as <directory>/<name>.json (compact JSON); returns the path."""
    path = os.path.join(str(directory), doc["name"] + ".json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    return path


def write_heavy_mlp(directory, name="heavy", **kw):
    """heavy_mlp_doc(name, **kw) written into directory; returns the path."""
    return write_model(directory, heavy_mlp_doc(name=name, **kw))


def heavy_rows(n):
    """n distinct request bodies for a model on HEAVY_FEATURES."""
    if not 0 <= n <= 100000:
        raise ValueError("n must be 0..100000")
    rng = random.Random(1)
    return [json.dumps({"feature1": round(rng.uniform(-3, 3), 3),
                        "feature2": round(rng.uniform(-3, 3), 3)}).encode() for _ in range(n)]
