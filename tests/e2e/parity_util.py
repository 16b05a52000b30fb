"""Helpers of the exporter and parity tests: the bundled datasets, the table of estimator
cases, a pure-numpy reference evaluator of the predictd model format (used to test the
exporter without the C binary), CSV round trips and the comparison rule.

Comparison rule (documented in docs/exporting.md): a predicted value or probability `a`
matches the library's `b` when |a - b| <= RTOL * max(|b|, FLOOR), RTOL = 1e-6 and
FLOOR = 1e-6, i.e. 1e-6 relative, with an absolute floor of 1e-12 for numbers near 0
(where a sum of terms of size ~1 that cancels can only be compared absolutely). Labels
must be identical. Cases marked exact (single trees and forests, XGBoost) must match
bit for bit, as the library computes them in float32 / by a fixed summation order.

All loops are bounded: trees by MAX_DEPTH, the binary by RUN_TIMEOUT seconds.
"""

import csv
import functools
import os
import subprocess
import warnings

import numpy as np

RTOL = 1e-6
FLOOR = 1e-6
MAX_DEPTH = 1000            # the loader's depth limit bounds the reference traversal
RUN_TIMEOUT = 120           # seconds for one `predictd predict` run
NAN_FRACTION = 0.1          # share of cells blanked in the missing-value cases


# ---- datasets ------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def dataset(name):
    """(X float64, y, feature names) of a bundled scikit-learn dataset; "iris_str" has
    string labels, names ending in "_nan" have NAN_FRACTION of cells (and row 0) missing,
    "_nansplit" replaces the first feature by noise blanked on most rows of class 1, so that boosting
    learns "split on NaN" nodes (HistGradientBoosting's +inf thresholds)."""
    from sklearn import datasets
    base = name.rsplit("_nan", 1)[0]
    loader = {"iris": datasets.load_iris, "iris_str": datasets.load_iris,
              "wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer,
              "diabetes": datasets.load_diabetes, "digits": datasets.load_digits}[base]
    d = loader()
    X = np.array(d.data, dtype=np.float64)
    y = d.target
    names = [str(n).replace(" ", "_") for n in d.feature_names] if base != "iris_str" \
        else list(d.feature_names)
    if base == "iris_str":
        y = np.asarray(d.target_names)[y]
    if name.endswith("_nan"):
        rng = np.random.default_rng(0)
        X[rng.random(X.shape) < NAN_FRACTION] = np.nan
        X[0, :] = np.nan
    if name.endswith("_nansplit"):
        rng = np.random.default_rng(1)
        X[:, 0] = rng.random(len(y))
        X[(y == 1) & (rng.random(len(y)) < 0.9), 0] = np.nan
    return X, y, names


def fit(case):
    """The fitted estimator of a case (cached per process)."""
    return _fit(case.id)


@functools.lru_cache(maxsize=None)
def _fit(case_id):
    case = CASES_BY_ID[case_id]
    X, y, _ = dataset(case.data)
    if case.holdout:
        X, y = X[::2], y[::2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of small max_iter
        return case.make().fit(X, y)


def query_rows(case):
    """The rows a case is predicted on: its whole dataset, or with holdout the odd rows
    (the estimator was fitted on the even ones)."""
    X = dataset(case.data)[0]
    return X[1::2] if case.holdout else X


# ---- the cases -----------------------------------------------------------------------

class Case:
    """One estimator on one dataset. exact: library output must be matched bit for bit.
    named: export with the dataset's feature names (else the default x0..xN-1).
    outputs: named outputs the exported model must offer (test_parity_outputs.py).
    holdout: fit on the even rows, predict the odd ones (query_rows): for estimators whose
    library computes a distance of a training row to itself only up to rounding (brute
    force k-neighbours by the GEMM trick), where serving new rows is what matters."""

    def __init__(self, id, data, make, exact=False, named=True, outputs=(), holdout=False):
        self.id, self.data, self.make, self.exact, self.named = id, data, make, exact, named
        self.outputs, self.holdout = outputs, holdout

    def __repr__(self):
        return self.id


def _dense_cases():
    """Linear models and MLPs, with the scalers in pipelines."""
    from sklearn import linear_model as lm
    from sklearn import preprocessing as pp
    from sklearn.pipeline import make_pipeline as pipe
    return [
        Case("linear_regression", "diabetes", lambda: lm.LinearRegression()),
        Case("ridge", "diabetes", lambda: lm.Ridge(alpha=0.5), named=False),
        Case("lasso", "diabetes", lambda: lm.Lasso(alpha=0.1)),
        Case("elastic_net", "diabetes", lambda: lm.ElasticNet(alpha=0.01, l1_ratio=0.3)),
        Case("minmax_linear", "diabetes",
             lambda: pipe(pp.MinMaxScaler(), lm.LinearRegression())),
        Case("robust_ridge", "diabetes", lambda: pipe(pp.RobustScaler(), lm.Ridge())),
        Case("robust_nocenter_ridge", "diabetes",
             lambda: pipe(pp.RobustScaler(with_centering=False), lm.Ridge())),
        Case("logistic_binary", "breast_cancer",
             lambda: pipe(pp.StandardScaler(), lm.LogisticRegression(max_iter=500))),
        Case("logistic_binary_multinomial", "breast_cancer",
             lambda: pipe(pp.StandardScaler(),
                          lm.LogisticRegression(multi_class="multinomial", max_iter=500))),
        Case("logistic_multinomial", "iris_str", lambda: lm.LogisticRegression(max_iter=500)),
        Case("logistic_ovr", "wine",
             lambda: pipe(pp.MaxAbsScaler(), lm.LogisticRegression(multi_class="ovr"))),
        Case("logistic_liblinear", "iris", lambda: lm.LogisticRegression(solver="liblinear")),
    ] + _more_dense_cases()


def _tree_cases():
    """Single trees, forests, gradient boosting, histogram gradient boosting."""
    from sklearn import ensemble as en, tree
    rs = 0
    return [
        Case("tree_classifier", "iris_str",
             lambda: tree.DecisionTreeClassifier(random_state=rs), exact=True),
        Case("tree_regressor", "diabetes",
             lambda: tree.DecisionTreeRegressor(max_depth=8, random_state=rs), exact=True),
        Case("forest_classifier", "digits",
             lambda: en.RandomForestClassifier(n_estimators=15, max_depth=10,
                                               random_state=rs), exact=True),
        Case("forest_regressor", "diabetes",
             lambda: en.RandomForestRegressor(n_estimators=15, max_depth=8,
                                              random_state=rs), exact=True),
        Case("extra_trees_classifier", "wine",
             lambda: en.ExtraTreesClassifier(n_estimators=15, random_state=rs), exact=True),
        Case("extra_trees_regressor", "diabetes",
             lambda: en.ExtraTreesRegressor(n_estimators=10, max_depth=8, random_state=rs),
             exact=True),
        Case("gb_binary", "breast_cancer",
             lambda: en.GradientBoostingClassifier(n_estimators=30, random_state=rs)),
        Case("gb_exponential", "breast_cancer",
             lambda: en.GradientBoostingClassifier(loss="exponential", n_estimators=20,
                                                   learning_rate=0.3, random_state=rs)),
        Case("gb_multiclass", "iris_str",
             lambda: en.GradientBoostingClassifier(n_estimators=20, max_depth=2,
                                                   random_state=rs)),
        Case("gb_regressor", "diabetes",
             lambda: en.GradientBoostingRegressor(n_estimators=40, learning_rate=0.07,
                                                  subsample=0.8, random_state=rs)),
        Case("gb_huber_zero_init", "diabetes",
             lambda: en.GradientBoostingRegressor(loss="huber", init="zero",
                                                  n_estimators=20, random_state=rs)),
        Case("hgb_binary_nan", "breast_cancer_nan",
             lambda: en.HistGradientBoostingClassifier(max_iter=30, random_state=rs)),
        Case("hgb_multiclass_nan", "wine_nan",
             lambda: en.HistGradientBoostingClassifier(max_iter=20, random_state=rs)),
        Case("hgb_nan_split", "breast_cancer_nansplit",
             lambda: en.HistGradientBoostingClassifier(max_iter=10, random_state=rs)),
        Case("hgb_regressor_nan", "diabetes_nan",
             lambda: en.HistGradientBoostingRegressor(max_iter=30, random_state=rs)),
    ]


def _more_dense_cases():
    """The MLP cases."""
    from sklearn import neural_network as nn
    from sklearn import preprocessing as pp
    from sklearn.pipeline import make_pipeline as pipe
    rs = 0
    return [
        Case("mlp_binary", "breast_cancer",
             lambda: pipe(pp.StandardScaler(), nn.MLPClassifier(
                 hidden_layer_sizes=(16, 8), max_iter=200, random_state=rs))),
        Case("mlp_multiclass_tanh", "digits",
             lambda: pipe(pp.MinMaxScaler(), nn.MLPClassifier(
                 hidden_layer_sizes=(32,), activation="tanh", max_iter=60, random_state=rs))),
        Case("mlp_logistic_act", "iris_str",
             lambda: pipe(pp.StandardScaler(), nn.MLPClassifier(
                 hidden_layer_sizes=(8,), activation="logistic", max_iter=300,
                 random_state=rs))),
        Case("mlp_regressor", "diabetes",
             lambda: pipe(pp.StandardScaler(), nn.MLPRegressor(
                 hidden_layer_sizes=(16,), activation="identity", max_iter=200,
                 random_state=rs))),
        Case("mlp_regressor_relu", "diabetes",
             lambda: pipe(pp.StandardScaler(with_mean=False), nn.MLPRegressor(
                 hidden_layer_sizes=(16,), max_iter=200, random_state=rs))),
    ]


def _linear_family_cases():
    """The linear family of _linear.py: regressors, GLMs, classifiers with and without
    probabilities, naive Bayes."""
    from sklearn import discriminant_analysis as da, naive_bayes as nb, svm
    from sklearn import linear_model as lm, preprocessing as pp
    from sklearn.pipeline import make_pipeline as pipe
    rs, sc = 0, pp.StandardScaler
    reg = [
        ("linear_svr", lambda: pipe(sc(), svm.LinearSVR(random_state=rs, max_iter=5000))),
        ("sgd_regressor", lambda: pipe(sc(), lm.SGDRegressor(random_state=rs))),
        ("pa_regressor", lambda: pipe(sc(), lm.PassiveAggressiveRegressor(random_state=rs))),
        ("huber", lambda: pipe(sc(), lm.HuberRegressor(max_iter=500))),
        ("quantile", lambda: lm.QuantileRegressor(quantile=0.7, alpha=0.01,
                                                  solver="highs")),
        ("bayesian_ridge", lambda: lm.BayesianRidge()),
        ("ard", lambda: lm.ARDRegression()),
        ("lars", lambda: lm.Lars(n_nonzero_coefs=6)),
        ("lasso_lars", lambda: lm.LassoLars(alpha=0.05)),
        ("omp", lambda: lm.OrthogonalMatchingPursuit(n_nonzero_coefs=5)),
        ("tweedie_identity", lambda: pipe(sc(), lm.TweedieRegressor(power=0, alpha=0.1))),
        ("tweedie_log", lambda: pipe(sc(), lm.TweedieRegressor(power=1.5, alpha=0.1))),
        ("poisson", lambda: pipe(sc(), lm.PoissonRegressor(alpha=0.1))),
        ("gamma", lambda: pipe(sc(), lm.GammaRegressor(alpha=0.1))),
    ]
    cls = [
        ("linear_svc_binary", "breast_cancer",
         lambda: pipe(sc(), svm.LinearSVC(random_state=rs, max_iter=5000))),
        ("linear_svc_multi", "wine",
         lambda: pipe(sc(), svm.LinearSVC(random_state=rs, max_iter=5000))),
        ("linear_svc_crammer", "iris_str",
         lambda: pipe(sc(), svm.LinearSVC(multi_class="crammer_singer", random_state=rs,
                                          max_iter=5000))),
        ("perceptron", "digits", lambda: lm.Perceptron(random_state=rs)),
        ("pa_classifier", "breast_cancer",
         lambda: pipe(sc(), lm.PassiveAggressiveClassifier(random_state=rs))),
        ("ridge_classifier", "iris_str", lambda: lm.RidgeClassifier()),
        ("ridge_classifier_binary", "breast_cancer", lambda: lm.RidgeClassifier(alpha=3)),
        ("sgd_hinge", "wine", lambda: pipe(sc(), lm.SGDClassifier(random_state=rs))),
        ("sgd_log_binary", "breast_cancer",
         lambda: pipe(sc(), lm.SGDClassifier(loss="log_loss", random_state=rs))),
        ("sgd_log_multi", "iris_str",
         lambda: pipe(sc(), lm.SGDClassifier(loss="log_loss", random_state=rs))),
        ("sgd_mhuber_binary", "breast_cancer",
         lambda: pipe(sc(), lm.SGDClassifier(loss="modified_huber", random_state=rs))),
        ("sgd_mhuber_multi", "digits",
         lambda: pipe(sc(), lm.SGDClassifier(loss="modified_huber", random_state=rs))),
        ("sgd_squared_hinge", "iris",
         lambda: pipe(sc(), lm.SGDClassifier(loss="squared_hinge", random_state=rs))),
        ("lda_binary", "breast_cancer", lambda: da.LinearDiscriminantAnalysis()),
        ("lda_multi", "wine", lambda: da.LinearDiscriminantAnalysis(solver="lsqr",
                                                                    shrinkage="auto")),
        ("lda_eigen", "iris_str", lambda: da.LinearDiscriminantAnalysis(solver="eigen")),
        ("multinomial_nb", "digits", lambda: nb.MultinomialNB(alpha=0.5)),
        ("complement_nb", "digits", lambda: nb.ComplementNB()),
        ("bernoulli_nb", "digits", lambda: nb.BernoulliNB(binarize=4.0)),
        ("bernoulli_nb_binary", "breast_cancer",
         lambda: pipe(sc(), nb.BernoulliNB())),
    ]
    nb_out = ("predict_joint_log_proba",)
    return ([Case(i, "diabetes", f) for i, f in reg] +
            [Case(i, d, f, outputs=nb_out if i.endswith(("_nb", "_nb_binary"))
                  else ("decision_function",)) for i, d, f in cls])


def _svm_cases():
    """libsvm estimators: every kernel, binary/multiclass/string labels, ovr/ovo, break_ties,
    probabilities, nu variants, regression, one-class."""
    from sklearn import preprocessing as pp, svm
    from sklearn.pipeline import make_pipeline as pipe
    rs, sc, df = 0, pp.StandardScaler, ("decision_function",)
    return [
        Case("svc_rbf_binary_proba", "breast_cancer",
             lambda: pipe(sc(), svm.SVC(probability=True, random_state=rs)), outputs=df),
        Case("svc_rbf_multi_proba", "iris_str",
             lambda: svm.SVC(probability=True, random_state=rs), outputs=df),
        Case("svc_rbf_digits_proba", "digits",
             lambda: pipe(pp.MinMaxScaler(), svm.SVC(gamma=0.05, probability=True,
                                                     random_state=rs)), outputs=df),
        Case("svc_linear_ovo", "wine",
             lambda: pipe(sc(), svm.SVC(kernel="linear", decision_function_shape="ovo")),
             outputs=df),
        Case("svc_poly", "wine",
             lambda: pipe(sc(), svm.SVC(kernel="poly", degree=3, coef0=1.0, C=0.5)),
             outputs=df),
        Case("svc_sigmoid", "breast_cancer",
             lambda: pipe(sc(), svm.SVC(kernel="sigmoid", gamma=0.01, coef0=0.5)),
             outputs=df),
        Case("svc_break_ties", "wine",
             lambda: pipe(sc(), svm.SVC(C=0.3, break_ties=True)), outputs=df),
        Case("nusvc_multi_proba", "iris",
             lambda: svm.NuSVC(nu=0.3, probability=True, random_state=rs), outputs=df),
        Case("nusvc_binary", "breast_cancer",
             lambda: pipe(sc(), svm.NuSVC(nu=0.2, kernel="poly", degree=2)), outputs=df),
        Case("svr_rbf", "diabetes", lambda: pipe(sc(), svm.SVR(C=50.0, epsilon=5.0))),
        Case("svr_linear", "diabetes", lambda: pipe(sc(), svm.SVR(kernel="linear", C=10.0))),
        Case("nusvr_poly", "diabetes",
             lambda: pipe(sc(), svm.NuSVR(kernel="poly", degree=2, C=20.0, nu=0.4))),
        Case("one_class_svm", "breast_cancer",
             lambda: pipe(sc(), svm.OneClassSVM(nu=0.1, gamma=0.02)),
             outputs=("decision_function", "score_samples")),
    ]


def _distance_cases():
    """Neighbours, centroids, clustering, projections, isolation forests."""
    from sklearn import cluster, decomposition as dec, ensemble as en, linear_model as lm
    from sklearn import neighbors as nb, preprocessing as pp, svm
    from sklearn.pipeline import make_pipeline as pipe
    rs, sc = 0, pp.StandardScaler
    km_out, if_out = ("transform",), ("score_samples", "decision_function")
    return [
        Case("knn_uniform", "wine", lambda: pipe(sc(), nb.KNeighborsClassifier(5))),
        Case("knn_distance", "breast_cancer",
             lambda: pipe(sc(), nb.KNeighborsClassifier(7, weights="distance")),
             holdout=True),
        Case("knn_manhattan", "wine",
             lambda: pipe(sc(), nb.KNeighborsClassifier(6, metric="manhattan",
                                                        weights="distance"))),
        Case("knn_chebyshev_str", "iris_str",
             lambda: nb.KNeighborsClassifier(3, metric="chebyshev", algorithm="brute"),
             holdout=True),
        Case("knn_minkowski_p3", "breast_cancer",
             lambda: pipe(sc(), nb.KNeighborsClassifier(4, p=3, algorithm="brute"))),
        Case("knn_regressor", "diabetes", lambda: nb.KNeighborsRegressor(5)),
        Case("knn_regressor_distance", "diabetes",
             lambda: nb.KNeighborsRegressor(8, weights="distance", algorithm="brute"),
             holdout=True),
        Case("nearest_centroid", "iris_str", lambda: nb.NearestCentroid()),
        Case("nearest_centroid_manhattan", "wine",
             lambda: pipe(sc(), nb.NearestCentroid(metric="manhattan"))),
        Case("kmeans", "iris", lambda: cluster.KMeans(3, n_init=10, random_state=rs),
             outputs=km_out),
        Case("minibatch_kmeans", "wine",
             lambda: pipe(sc(), cluster.MiniBatchKMeans(4, n_init=3, random_state=rs)),
             outputs=km_out),
        Case("pca_logistic", "digits",
             lambda: pipe(dec.PCA(20, random_state=rs), lm.LogisticRegression(max_iter=2000))),
        Case("pca_whiten_svc", "wine",
             lambda: pipe(sc(), dec.PCA(5, whiten=True), svm.SVC(probability=True,
                                                                  random_state=rs))),
        Case("svd_ridge", "diabetes",
             lambda: pipe(dec.TruncatedSVD(5, random_state=rs), lm.Ridge())),
        Case("isolation_forest", "breast_cancer",
             lambda: en.IsolationForest(n_estimators=50, random_state=rs), outputs=if_out),
        Case("isolation_forest_subspace", "wine",
             lambda: en.IsolationForest(n_estimators=30, max_features=0.5,
                                        contamination=0.1, random_state=rs),
             outputs=if_out),
    ]


def _meta_cases():
    """Meta-estimators over supported estimators (Pipelines inside included)."""
    from sklearn import calibration as cal, compose, ensemble as en, linear_model as lm
    from sklearn import neighbors as nb, preprocessing as pp, svm, tree
    from sklearn.pipeline import make_pipeline as pipe
    rs, sc = 0, pp.StandardScaler
    df = ("decision_function",)
    return [
        Case("voting_soft", "iris_str", lambda: en.VotingClassifier(
            [("lr", pipe(sc(), lm.LogisticRegression())),
             ("svc", svm.SVC(probability=True, random_state=rs)),
             ("rf", en.RandomForestClassifier(10, random_state=rs))],
            voting="soft", weights=[2, 1, 1])),
        Case("voting_hard", "wine", lambda: en.VotingClassifier(
            [("svc", pipe(sc(), svm.LinearSVC(random_state=rs))),
             ("knn", pipe(sc(), nb.KNeighborsClassifier())),
             ("tree", tree.DecisionTreeClassifier(max_depth=3, random_state=rs))],
            voting="hard")),
        Case("voting_regressor", "diabetes", lambda: en.VotingRegressor(
            [("ridge", lm.Ridge()), ("knn", nb.KNeighborsRegressor()),
             ("gb", en.GradientBoostingRegressor(n_estimators=10, random_state=rs))],
            weights=[1, 2, 1])),
        Case("bagging_trees", "breast_cancer", lambda: en.BaggingClassifier(
            tree.DecisionTreeClassifier(random_state=rs), n_estimators=10, max_features=0.5,
            random_state=rs)),
        Case("bagging_votes", "wine", lambda: en.BaggingClassifier(
            pipe(sc(), svm.SVC()), n_estimators=5, max_samples=0.5, random_state=rs)),
        Case("bagging_regressor", "diabetes", lambda: en.BaggingRegressor(
            lm.Ridge(), n_estimators=6, max_features=0.7, random_state=rs)),
        Case("adaboost_samme_r", "iris_str",
             lambda: en.AdaBoostClassifier(n_estimators=20, random_state=rs), outputs=df),
        Case("adaboost_samme", "breast_cancer",
             lambda: en.AdaBoostClassifier(n_estimators=15, algorithm="SAMME",
                                           random_state=rs), outputs=df),
        Case("adaboost_regressor", "diabetes",
             lambda: en.AdaBoostRegressor(n_estimators=15, random_state=rs)),
        Case("calibrated_sigmoid", "breast_cancer", lambda: cal.CalibratedClassifierCV(
            pipe(sc(), svm.LinearSVC(random_state=rs)), cv=3)),
        Case("calibrated_isotonic", "iris_str", lambda: cal.CalibratedClassifierCV(
            en.RandomForestClassifier(10, random_state=rs), method="isotonic", cv=3)),
        Case("calibrated_svc_multi", "wine", lambda: cal.CalibratedClassifierCV(
            pipe(sc(), svm.SVC()), cv=3, ensemble=False)),
        Case("stacking", "iris_str", lambda: en.StackingClassifier(
            [("rf", en.RandomForestClassifier(10, random_state=rs)),
             ("svc", pipe(sc(), svm.SVC(random_state=rs)))],
            final_estimator=lm.LogisticRegression(), cv=3)),
        Case("stacking_passthrough", "breast_cancer", lambda: en.StackingClassifier(
            [("knn", pipe(sc(), nb.KNeighborsClassifier())),
             ("lr", pipe(sc(), lm.LogisticRegression()))],
            final_estimator=en.GradientBoostingClassifier(n_estimators=10, random_state=rs),
            passthrough=True, cv=3)),
        Case("stacking_regressor", "diabetes", lambda: en.StackingRegressor(
            [("ridge", lm.Ridge()), ("svr", pipe(sc(), svm.SVR(C=50.0)))],
            final_estimator=lm.Ridge(), cv=3)),
        Case("ttr_log", "diabetes", lambda: compose.TransformedTargetRegressor(
            lm.Ridge(), func=np.log, inverse_func=np.exp)),
        Case("ttr_standard", "diabetes", lambda: compose.TransformedTargetRegressor(
            nb.KNeighborsRegressor(), transformer=pp.StandardScaler())),
        Case("logistic_cv", "breast_cancer",
             lambda: pipe(sc(), lm.LogisticRegressionCV(cv=3, max_iter=500)), outputs=df),
    ]


CASES = (_dense_cases() + _tree_cases() + _linear_family_cases() + _svm_cases() +
         _distance_cases() + _meta_cases())
CASES_BY_ID = {c.id: c for c in CASES}


def library_outputs(est, X):
    """(labels or values, proba or None) as the library predicts them."""
    if hasattr(est, "predict_proba") and hasattr(est, "classes_"):
        return est.predict(X), est.predict_proba(X)
    return est.predict(X), None


def library_method(est, name, X):
    """est.<name>(X) as float64; a Pipeline that does not expose the method (e.g.
    predict_joint_log_proba) runs its transformers, then the final estimator's method."""
    if not hasattr(est, name) and hasattr(est, "steps"):
        X = est[:-1].transform(X)
        est = est[-1]
    return np.asarray(getattr(est, name)(X), dtype=np.float64)


# ---- reference evaluator of the format -----------------------------------------------

def _sigmoid(z):
    from scipy.special import expit
    return expit(z)


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _scale(step, x):
    t = step["type"]
    if t == "binarizer":
        return (x > step["threshold"]).astype(np.float64)
    if t in ("standard_scaler", "robust_scaler"):
        c = step.get("mean", step.get("center"))
        if c is not None:
            x = x - np.array(c)
        if "scale" in step:
            x = x / np.array(step["scale"])
        return x
    if t == "minmax_scaler":
        return x * np.array(step["scale"]) + np.array(step["min"])
    if t == "maxabs_scaler":
        return x / np.array(step["scale"])
    raise AssertionError("unknown scaler " + t)


def _leaves(tree, x, le):
    feat = np.array(tree["feature"])
    thr = np.array(tree["threshold"], dtype=np.float64)
    left, right = np.array(tree["left"]), np.array(tree["right"])
    ml = np.array(tree.get("missing_left", np.zeros(len(feat), dtype=int)))
    rows = np.arange(x.shape[0])
    node = np.zeros(x.shape[0], dtype=np.int64)
    for _ in range(MAX_DEPTH + 1):
        f = feat[node]
        inner = f >= 0
        if not inner.any():
            return node
        v = x[rows, np.where(inner, f, 0)]
        with np.errstate(invalid="ignore"):
            go_left = v <= thr[node] if le else v < thr[node]
        go_left = np.where(np.isnan(v), ml[node] == 1, go_left)
        node = np.where(inner, np.where(go_left, left[node], right[node]), node)
    raise AssertionError("tree deeper than %d" % MAX_DEPTH)


def _ensemble(step, x):
    n_out = step["n_outputs"]
    if step["input_type"] == "float32":
        x = x.astype(np.float32).astype(np.float64)
    acc = np.zeros((x.shape[0], n_out))
    for t in step["trees"]:
        leaf = _leaves(t, x, step["comparison"] == "le")
        value = np.array(t["value"], dtype=np.float64)
        if "output" in t:
            acc[:, t["output"]] += value[leaf]
        else:
            acc += value.reshape(-1, n_out)[leaf]
    if step["aggregate"] == "average":
        acc /= len(step["trees"])
    return acc + np.array(step.get("base_score", [0.0] * n_out))


def _mlp(step, x):
    acts = {"identity": lambda a: a, "relu": lambda a: np.maximum(a, 0), "tanh": np.tanh,
            "logistic": _sigmoid}
    for i, layer in enumerate(step["layers"]):
        x = x @ np.array(layer["weights"]) + np.array(layer["bias"])
        if i < len(step["layers"]) - 1:
            x = acts[step["activation"]](x)
    return x


# Step types the reference evaluator below computes; newer types are checked against the
# library through the binary only (test_parity*.py).
REFERENCE_TYPES = {"standard_scaler", "minmax_scaler", "maxabs_scaler", "robust_scaler",
                   "binarizer", "linear", "tree_ensemble", "mlp"}


def reference_predict(doc, X):
    """(class indexes or values, proba or None) of a model document on X (NaN = missing),
    computed from the format's definition alone (step types in REFERENCE_TYPES)."""
    x = np.array(X, dtype=np.float64)
    for step in doc["steps"][:-1]:
        x = _scale(step, x)
    est = doc["steps"][-1]
    if est["type"] == "linear":
        z = x @ np.array(est["coef"]).T + np.array(est["intercept"])
        link = est["link"]
        if link == "exp":
            return np.exp(z[:, 0]), None
        z = z * est.get("proba_scale", 1.0) if link == "logistic" else z
    elif est["type"] == "tree_ensemble":
        z = _ensemble(est, x)
        link = {"normalize": "identity"}.get(est["post_transform"], est["post_transform"])
    else:
        z = _mlp(est, x)
        link = est["output_activation"]
    if doc["task"] == "regression":
        return z[:, 0], None
    if link == "logistic":
        p = _sigmoid(z[:, 0])
        return (z[:, 0] > 0).astype(int), np.column_stack([1 - p, p])
    if link == "ovr":
        s = _sigmoid(z)
        return z.argmax(axis=1), s / s.sum(axis=1, keepdims=True)
    if link in ("decision", "modified_huber"):
        idx = (z[:, 0] > 0).astype(int) if z.shape[1] == 1 else z.argmax(axis=1)
        if link == "decision":
            return idx, np.full((len(z), len(doc["classes"])), np.nan)
        p = (np.clip(z, -1, 1) + 1) / 2
        if z.shape[1] == 1:
            return idx, np.column_stack([1 - p[:, 0], p[:, 0]])
        s = p.sum(axis=1, keepdims=True)
        p[s[:, 0] == 0] = 1
        s[s == 0] = p.shape[1]
        return idx, p / s
    proba = _softmax(z) if link == "softmax" else z
    return proba.argmax(axis=1), proba


# ---- CSV and the binary --------------------------------------------------------------

def write_csv(path, names, X):
    """Writes X under a header of names; NaN as an empty cell, numbers by repr (exact)."""
    assert not any("," in n or '"' in n for n in names), names
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in X:
            f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n")


def read_csv(path):
    """(header, rows) of predictd's output CSV."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows, "empty output " + path
    return rows[0], rows[1:]


def run_predict(model_path, csv_path, out_path, proba=True, extra=()):
    """Runs `$PREDICTD_BIN predict`; returns the CompletedProcess (never hangs)."""
    binary = os.environ["PREDICTD_BIN"]
    cmd = [binary, "predict", model_path, "--input", csv_path, "--output", out_path]
    if proba:
        cmd.append("--proba")
    return subprocess.run(cmd + list(extra), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)


def binary_outputs(doc, model_path, X, tmp_path, extra=()):
    """(labels or values, proba or None) of `predictd predict` on X (--proba for
    classifiers; predictd refuses it for a regressor)."""
    csv_in, csv_out = str(tmp_path / "x.csv"), str(tmp_path / "y.csv")
    write_csv(csv_in, doc["features"], X)
    r = run_predict(model_path, csv_in, csv_out, proba=doc["task"] == "classification",
                    extra=extra)
    assert r.returncode == 0, "predictd predict failed (%d): %s" % (r.returncode, r.stderr)
    header, rows = read_csv(csv_out)
    assert len(rows) == X.shape[0], "%d output rows for %d inputs" % (len(rows), X.shape[0])
    assert header[0] == "prediction", header
    if doc["task"] == "regression":
        assert header == ["prediction"], header
        return np.array([float(r[0]) for r in rows]), None
    classes = doc["classes"]
    assert header[1:] == ["proba_%s" % c for c in classes], header
    labels = np.array([r[0] for r in rows])
    proba = np.array([[float(v) for v in r[1:]] for r in rows])
    return labels, proba


# ---- named outputs through the C API (ctypes) ----------------------------------------

_NATIVE = {}
CC_TIMEOUT = 120            # seconds to compile src/model into a shared library


def _native_lib():
    """src/model (and src/util) compiled once per process into a shared library, for the
    outputs `predictd predict` does not print (pd_model_predict_ex's named outputs)."""
    import ctypes
    import glob
    import tempfile
    if "lib" in _NATIVE:
        return _NATIVE["lib"]
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    srcs = sorted(glob.glob(os.path.join(root, "src", "model", "*.c")) +
                  glob.glob(os.path.join(root, "src", "util", "*.c")))
    out = os.path.join(tempfile.mkdtemp(prefix="pd-native-"), "libpdmodel.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-D_GNU_SOURCE",
                    "-I" + os.path.join(root, "src")] + srcs +
                   ["-ljansson", "-lm", "-o", out], check=True, timeout=CC_TIMEOUT)
    lib = ctypes.CDLL(out)

    class Output(ctypes.Structure):
        _fields_ = [("name", ctypes.c_char_p), ("width", ctypes.c_size_t),
                    ("description", ctypes.c_char_p)]

    class Schema(ctypes.Structure):  # pd_model_schema_t, in model.h's order
        P = ctypes.c_void_p
        _fields_ = [("name", P), ("version", P), ("source", P), ("kind", P),
                    ("task", ctypes.c_int), ("n_features", ctypes.c_size_t),
                    ("feature_names", P), ("n_classes", ctypes.c_size_t),
                    ("labels_are_strings", ctypes.c_int), ("class_labels_str", P),
                    ("class_labels_int", P), ("missing_ok", ctypes.c_int),
                    ("proba_ok", ctypes.c_int), ("n_outputs", ctypes.c_size_t),
                    ("outputs", ctypes.POINTER(Output))]

    lib.pd_model_schema.restype = ctypes.POINTER(Schema)
    lib.pd_model_scratch_size.restype = ctypes.c_size_t
    _NATIVE["lib"] = lib
    return lib


def native_outputs(model_path, X):
    """{"label": class indexes or None, "value", "proba", and every named output} of a
    model file on X, computed by pd_model_predict_ex in this process."""
    import ctypes
    lib = _native_lib()
    m, err = ctypes.c_void_p(), ctypes.create_string_buffer(1024)
    rc = lib.pd_model_load(model_path.encode(), ctypes.byref(m), err, ctypes.c_size_t(1024))
    assert rc == 0, err.value.decode()
    try:
        s = lib.pd_model_schema(m).contents
        n = X.shape[0]
        x = np.ascontiguousarray(X, dtype=np.float64)
        cls = np.zeros(n, dtype=np.int32)
        val = np.zeros(n)
        proba = np.zeros((n, max(s.n_classes, 1)))
        outs = {s.outputs[k].name.decode(): np.zeros((n, s.outputs[k].width))
                for k in range(s.n_outputs)}
        names = [s.outputs[k].name.decode() for k in range(s.n_outputs)]
        extra = (ctypes.c_void_p * max(len(names), 1))(
            *[outs[k].ctypes.data for k in names])
        scratch = ctypes.create_string_buffer(lib.pd_model_scratch_size(m, ctypes.c_size_t(n))
                                              + 8)
        ptrs = (ctypes.c_void_p * 3)(cls.ctypes.data, val.ctypes.data, proba.ctypes.data)
        rc = lib.pd_model_predict_ex(m, x.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(n),
                                     scratch, ptrs, extra)
        assert rc == 0, rc
        res = {"label": cls if s.task == 0 else None, "value": val, "proba": proba}
        res.update({k: v[:, 0] if v.shape[1] == 1 else v for k, v in outs.items()})
        return res
    finally:
        lib.pd_model_free(m)


# ---- comparison ----------------------------------------------------------------------

def assert_close(got, want, what, exact=False):
    """Element-wise comparison by the module's rule (or bit-exact); the message lists the
    first mismatches with their row numbers."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, "%s: shape %s, expected %s" % (what, got.shape, want.shape)
    if exact:
        bad = ~((got == want) | (np.isnan(got) & np.isnan(want)))
    else:
        bad = ~(np.abs(got - want) <= RTOL * np.maximum(np.abs(want), FLOOR))
    if bad.any():
        idx = np.argwhere(bad)[:5]
        detail = "; ".join("at %s got %r want %r" % (tuple(int(i) for i in ix),
                                                      float(got[tuple(ix)]),
                                                      float(want[tuple(ix)])) for ix in idx)
        raise AssertionError("%s: %d of %d differ (%s): %s"
                             % (what, int(bad.sum()), bad.size,
                                "exact" if exact else "rel 1e-6", detail))


def assert_labels(got, want, what):
    """Labels compared as the text predictd prints (ints print as ints)."""
    got = [str(g) for g in got]
    want = [str(w.item() if hasattr(w, "item") else w) for w in want]
    diff = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    assert len(got) == len(want) and not diff, \
        "%s: %d labels differ, first rows %s: got %s want %s" % (
            what, len(diff), diff[:5], [got[i] for i in diff[:5]],
            [want[i] for i in diff[:5]])
