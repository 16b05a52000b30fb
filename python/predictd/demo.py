"""The demo models, trained deterministically from data that ships with scikit-learn, so
that models/build.py, the FastAPI reference app and the benchmarks all use the very same
models. Each train_* function returns the fitted estimator (fitted on numpy arrays);
FEATURES[name] holds its input feature names, to pass to predictd.export.export.

- seed:  the article's model: a binary LogisticRegression on two features named feature1,
         feature2 (breast_cancer's "mean radius" and "mean texture"), classes 0/1
         (0 = malignant, 1 = benign).
- iris:  a RandomForestClassifier (50 trees) on the four iris features, with string class
         labels setosa/versicolor/virginica.
- heavy: a RandomForestClassifier (default 300 trees, depth 12) on feature1, feature2 of a
         synthetic make_classification problem (20000 rows, 10% flipped labels) so that the
         trees really grow to their full depth; same request schema as seed.
"""

import numpy as np

SEED_FEATURES = ["feature1", "feature2"]
IRIS_FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                 "petal width (cm)"]
FEATURES = {"seed": SEED_FEATURES, "iris": IRIS_FEATURES, "heavy": SEED_FEATURES}
HEAVY_ROWS = 20000           # rows of the synthetic problem for the heavy forest
HEAVY_MAX_TREES = 5000       # bounds for train_heavy_forest's arguments
HEAVY_MAX_DEPTH = 32


def train_seed():
    """Binary LogisticRegression on breast_cancer columns 0, 1 as feature1, feature2."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    data = load_breast_cancer()
    X = np.ascontiguousarray(data.data[:, :2])
    return LogisticRegression(max_iter=1000).fit(X, data.target)


def train_iris(n_trees=50):
    """RandomForestClassifier on iris, string labels, feature names as sklearn spells them."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    data = load_iris()
    y = np.asarray(data.target_names)[data.target]
    est = RandomForestClassifier(n_estimators=n_trees, max_depth=6, random_state=0)
    assert list(data.feature_names) == IRIS_FEATURES
    return est.fit(data.data, y)


def heavy_data(n_rows=HEAVY_ROWS):
    """The synthetic 2-feature problem of the heavy forest: (X, y)."""
    from sklearn.datasets import make_classification
    return make_classification(n_samples=n_rows, n_features=2, n_informative=2,
                               n_redundant=0, n_clusters_per_class=2, flip_y=0.1,
                               random_state=0)


def train_heavy_forest(n_trees=300, depth=12):
    """RandomForestClassifier with n_trees trees of max_depth depth on feature1, feature2.
    Trained on 2 cores; prediction is left single-job so that probabilities are summed in
    tree order (as predictd does)."""
    from sklearn.ensemble import RandomForestClassifier
    if not 1 <= n_trees <= HEAVY_MAX_TREES or not 1 <= depth <= HEAVY_MAX_DEPTH:
        raise ValueError("n_trees must be 1..%d and depth 1..%d"
                         % (HEAVY_MAX_TREES, HEAVY_MAX_DEPTH))
    X, y = heavy_data()
    est = RandomForestClassifier(n_estimators=n_trees, max_depth=depth, random_state=0,
                                 n_jobs=2)
    est.fit(X, y)
    return est.set_params(n_jobs=None)
