"""Converters for scikit-learn 1.2 tree models into one `tree_ensemble` step: single
decision trees, random forests and extra-trees (averaging), gradient boosting (sum of
learning_rate * leaf values over stages, plus the init estimator's raw prediction) and
histogram gradient boosting (float64 thresholds, per-node missing-value direction).

Invariants of every tree written: node 0 is the root; a leaf has feature, left and right
equal to -1; `value` carries n_nodes * n_outputs numbers (or n_nodes with `output`).
Leaf values are computed with the same floating-point operations as the library's own
prediction path, so that the values added up at prediction time are bit-identical.
"""

import numpy as np

from ._common import ExportError, UnsupportedError, est_name, floats, ints

# 1.7976931348623157e308: stands for HistGradientBoosting's +inf "split on NaN" threshold,
# which JSON cannot hold. Every finite input goes left, as with +inf; only an input of
# +inf itself would now go right.
_MAX_FLOAT = float(np.finfo(np.float64).max)


def _sk_tree(tree, values, what):
    """One tree of the format from a sklearn Tree object and per-node values
    (array of n_nodes x n_outputs, or n_nodes)."""
    left = np.asarray(tree.children_left, dtype=np.int64)
    right = np.asarray(tree.children_right, dtype=np.int64)
    leaf = left == -1
    feature = np.where(leaf, -1, tree.feature).astype(np.int64)
    threshold = np.where(leaf, 0.0, tree.threshold)
    return {"feature": ints(feature), "threshold": floats(threshold, what + " thresholds"),
            "left": ints(np.where(leaf, -1, left)), "right": ints(np.where(leaf, -1, right)),
            "value": floats(values, what + " leaf values")}


def _classifier_values(tree):
    """Per-node class probabilities exactly as DecisionTreeClassifier.predict_proba
    computes them from tree_.value (normalised per node, a zero sum left as is)."""
    proba = np.array(tree.value[:, 0, :], dtype=np.float64)
    normalizer = proba.sum(axis=1)[:, np.newaxis]
    normalizer[normalizer == 0.0] = 1.0
    proba /= normalizer
    return proba


def _check_single_output(est, tree):
    if getattr(est, "n_outputs_", 1) != 1 or tree.n_outputs != 1:
        raise UnsupportedError("%s: multi-output targets are not supported" % est_name(est))


def forest(est, classifier):
    """DecisionTree*, RandomForest*, ExtraTrees*: outputs averaged over the trees."""
    members = [est] if hasattr(est, "tree_") else list(est.estimators_)
    if not members:
        raise ExportError("%s has no trees" % est_name(est))
    n_classes = len(est.classes_) if classifier else 0
    trees = []
    for i, m in enumerate(members):
        t = m.tree_
        _check_single_output(est, t)
        what = "%s tree %d" % (est_name(est), i)
        if classifier:
            if t.value.shape[2] != n_classes:
                raise UnsupportedError("%s: tree %d has %d classes, the model %d"
                                       % (est_name(est), i, t.value.shape[2], n_classes))
            trees.append(_sk_tree(t, _classifier_values(t), what))
        else:
            trees.append(_sk_tree(t, t.value[:, 0, 0], what))
    return {"type": "tree_ensemble", "n_outputs": n_classes if classifier else 1,
            "aggregate": "average", "base_score": [0.0] * (n_classes if classifier else 1),
            "input_type": "float32", "comparison": "le",
            "post_transform": "normalize" if classifier else "identity", "trees": trees}


def _gb_base(est, n_out):
    """The init estimator's raw prediction, which must not depend on the input."""
    from sklearn.dummy import DummyClassifier, DummyRegressor
    init = est.init_
    if isinstance(init, str) and init == "zero":
        return np.zeros(n_out)
    ok = (type(init) is DummyRegressor or
          (type(init) is DummyClassifier and init.strategy in ("prior", "most_frequent",
                                                                 "constant")))
    if not ok:
        raise UnsupportedError("%s: init estimator %s is not supported (only the default "
                               "prior, 'zero' or a constant Dummy estimator)"
                               % (est_name(est), est_name(init)))
    probe = np.zeros((1, est.n_features_in_), dtype=np.float32)
    return np.asarray(est._raw_predict_init(probe), dtype=np.float64)[0]


def gradient_boosting(est, classifier):
    """GradientBoostingClassifier/Regressor. sklearn's predict_stages adds
    learning_rate * value per stage, so each leaf carries that very product."""
    loss = type(est._loss).__name__
    scale, post = 1.0, "identity"
    if classifier:
        if loss == "BinomialDeviance":
            post = "logistic"
        elif loss == "ExponentialLoss":  # proba = expit(2 * raw): doubling is exact
            post, scale = "logistic", 2.0
        elif loss == "MultinomialDeviance":
            post = "softmax"
        else:
            raise UnsupportedError("%s: loss %s is not supported" % (est_name(est), loss))
    stages = np.asarray(est.estimators_)
    n_out = stages.shape[1]
    base = _gb_base(est, n_out) * scale
    lr = est.learning_rate
    trees = []
    for i in range(stages.shape[0]):
        for k in range(n_out):
            t = stages[i, k].tree_
            _check_single_output(est, t)
            values = (lr * t.value[:, 0, 0]) * scale
            tree = _sk_tree(t, values, "%s stage %d" % (est_name(est), i))
            if n_out > 1:
                tree["output"] = k
            trees.append(tree)
    if not trees:
        raise ExportError("%s has no trees" % est_name(est))
    return {"type": "tree_ensemble", "n_outputs": n_out, "aggregate": "sum",
            "base_score": floats(base, "%s init prediction" % est_name(est)),
            "input_type": "float32", "comparison": "le", "post_transform": post,
            "trees": trees}


def _bits(words):
    """The category values whose bit is set in a row of 32-bit bitset words."""
    words = np.asarray(words, dtype=np.uint64)
    return [int(32 * w + b) for w in range(len(words)) for b in range(32)
            if (int(words[w]) >> b) & 1]


def _hgb_tree(pred, known, what):
    """One HGB predictor. A categorical node (is_categorical) sends the categories of its
    raw_left_cat_bitsets row left, the feature's other known categories right, and
    anything else (unknown, negative) where NaN goes, as _predict_one_from_raw_data does;
    known = (known_cat_bitsets, f_idx_map) of the estimator's bin mapper."""
    nodes = pred.nodes
    leaf = nodes["is_leaf"].astype(bool)
    cat = nodes["is_categorical"].astype(bool) & ~leaf
    thr = np.array(nodes["num_threshold"], dtype=np.float64)
    thr[np.isposinf(thr)] = _MAX_FLOAT
    thr[leaf | cat] = 0.0
    tree = {"feature": ints(np.where(leaf, -1, nodes["feature_idx"])),
            "threshold": floats(thr, what + " thresholds"),
            "left": ints(np.where(leaf, -1, nodes["left"])),
            "right": ints(np.where(leaf, -1, nodes["right"])),
            "missing_left": ints(np.where(leaf, 0, nodes["missing_go_to_left"])),
            "value": floats(nodes["value"], what + " leaf values")}
    if cat.any():
        known_bits, f_idx_map = known
        sets, index = [], []
        for i in range(len(nodes)):
            if not cat[i]:
                index.append(-1)
                continue
            left = _bits(pred.raw_left_cat_bitsets[nodes["bitset_idx"][i]])
            kn = _bits(known_bits[f_idx_map[nodes["feature_idx"][i]]])
            index.append(len(sets))
            sets.append({"left": left, "right": sorted(set(kn) - set(left)),
                         "other_left": int(nodes["missing_go_to_left"][i])})
        tree["categorical"] = index
        tree["category_sets"] = sets
    return tree


def hist_gradient_boosting(est, classifier):
    """HistGradientBoostingClassifier/Regressor: baseline + sum of tree values."""
    name = est_name(est)
    cat = getattr(est, "is_categorical_", None)
    categorical = cat is not None and np.asarray(cat).any()
    known = est._bin_mapper.make_known_categories_bitsets() if categorical else None
    link = type(est._loss.link).__name__
    if classifier:
        post = {"LogitLink": "logistic", "MultinomialLogit": "softmax"}.get(link)
    else:
        post = "identity" if link == "IdentityLink" else None
    if post is None:
        raise UnsupportedError("%s: loss %r (link %s) is not supported"
                               % (name, est.loss, link))
    n_out = est.n_trees_per_iteration_
    trees = []
    for i, iteration in enumerate(est._predictors):
        for k, pred in enumerate(iteration):
            tree = _hgb_tree(pred, known, "%s iteration %d" % (name, i))
            if n_out > 1:
                tree["output"] = k
            trees.append(tree)
    if not trees:
        raise ExportError("%s has no trees" % name)
    base = np.asarray(est._baseline_prediction, dtype=np.float64).ravel()
    step = {"type": "tree_ensemble", "n_outputs": n_out, "aggregate": "sum",
            "base_score": floats(base, name + " baseline prediction"),
            "input_type": "float64", "comparison": "le", "post_transform": post,
            "trees": trees}
    if categorical:  # the compiled predictor reads a category as (uint8_t)x
        step["category_cast"] = "uint8"
    return step


def _average_path_length(n):
    """scikit-learn's _average_path_length for an array of node sample counts."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros(n.shape)
    big = n > 2
    out[n == 2] = 1.0
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def _depths(tree):
    """Depth of every node of a sklearn Tree (root 0)."""
    left, right = tree.children_left, tree.children_right
    depth = np.zeros(tree.node_count, dtype=np.int64)
    for i in range(tree.node_count):  # children always follow their parent
        if left[i] != -1:
            depth[left[i]] = depth[right[i]] = depth[i] + 1
    return depth


def isolation_forest(est):
    """IsolationForest: a tree_ensemble whose leaves hold each tree's path length as
    _compute_score_samples adds it ((depth + 1) + c(n_node_samples) - 1.0, in float64),
    with every tree's features mapped back to input columns; then the scoring."""
    name = est_name(est)
    trees = []
    for i, (t, feats) in enumerate(zip(est.estimators_, est.estimators_features_)):
        tree = t.tree_
        feats = np.asarray(feats, dtype=np.int64)
        leaf = tree.children_left == -1
        path = (_depths(tree) + 1).astype(np.float64)
        value = path + _average_path_length(tree.n_node_samples) - 1.0
        step = _sk_tree(tree, np.where(leaf, value, 0.0), "%s tree %d" % (name, i))
        step["feature"] = ints(np.where(leaf, -1, feats[np.where(leaf, 0, tree.feature)]))
        trees.append(step)
    denominator = len(est.estimators_) * _average_path_length([est.max_samples_])[0]
    forest = {"type": "tree_ensemble", "n_outputs": 1, "aggregate": "sum",
              "base_score": [0.0], "input_type": "float32", "comparison": "le",
              "post_transform": "identity", "trees": trees}
    return {"type": "isolation_forest", "forest": forest,
            "denominator": float(denominator),
            "offset": float(np.asarray(est.offset_, dtype=np.float64))}
