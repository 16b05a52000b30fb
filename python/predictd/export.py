"""The scikit-learn exporter: a fitted estimator (or a Pipeline of transformers ending in one,
ColumnTransformer, imputers and encoders over string columns included)
becomes a predictd model file (docs/model-format.md).

    from predictd.export import export
    export(fitted_estimator, "models/mymodel.json", feature_names=["a", "b"])

Command line: tools/predictd-export IN.pkl OUT.json [--feature-names a,b] [--name N]

Invariants: the whole document is built and checked in memory before any file is
touched; it is then written to a temporary file next to OUT and renamed over it, so a
failed export never leaves a partial or stale file. Anything unsupported raises
UnsupportedError naming the estimator (exit code 2 on the command line).
"""

import argparse
import json
import os
import re
import sys
import tempfile

from ._common import ExportError, UnsupportedError, class_labels, est_name
from . import _bayes, _columns, _dense, _ensemble, _linear, _neighbors, _svm, _trees

FORMAT_VERSION = 1
MAX_FEATURES = 100000      # the loader's limit on len(features)
MAX_NAME_LEN = 128         # the loader's limit on the model name
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,%d}$" % MAX_NAME_LEN)

# class name -> (converter, task): True a classifier (classes_), False a regressor,
# "outlier" an outlier detector (classification with classes [-1, 1]: predict's inliers
# and outliers), "cluster" a clusterer (classification with classes 0..n_clusters-1).
# Only these exact scikit-learn classes are accepted: a subclass may change predict() in
# ways the file would not reproduce.
_ESTIMATORS = {
    "LinearRegression": (_dense.linear_regressor, False),
    "Ridge": (_dense.linear_regressor, False),
    "Lasso": (_dense.linear_regressor, False),
    "ElasticNet": (_dense.linear_regressor, False),
    "LogisticRegression": (_dense.logistic_regression, True),
    "DecisionTreeClassifier": (lambda e: _trees.forest(e, True), True),
    "DecisionTreeRegressor": (lambda e: _trees.forest(e, False), False),
    "RandomForestClassifier": (lambda e: _trees.forest(e, True), True),
    "RandomForestRegressor": (lambda e: _trees.forest(e, False), False),
    "ExtraTreesClassifier": (lambda e: _trees.forest(e, True), True),
    "ExtraTreesRegressor": (lambda e: _trees.forest(e, False), False),
    "GradientBoostingClassifier": (lambda e: _trees.gradient_boosting(e, True), True),
    "GradientBoostingRegressor": (lambda e: _trees.gradient_boosting(e, False), False),
    "HistGradientBoostingClassifier":
        (lambda e: _trees.hist_gradient_boosting(e, True), True),
    "HistGradientBoostingRegressor":
        (lambda e: _trees.hist_gradient_boosting(e, False), False),
    "MLPClassifier": (lambda e: _dense.mlp(e, True), True),
    "MLPRegressor": (lambda e: _dense.mlp(e, False), False),
}
# The linear family (_linear.py).
_ESTIMATORS.update({name: (_linear.regressor, False) for name in (
    "LinearSVR", "SGDRegressor", "PassiveAggressiveRegressor", "HuberRegressor",
    "QuantileRegressor", "BayesianRidge", "ARDRegression", "Lars", "LassoLars",
    "LassoLarsIC", "LarsCV", "LassoLarsCV", "OrthogonalMatchingPursuit",
    "OrthogonalMatchingPursuitCV", "TheilSenRegressor", "RidgeCV", "LassoCV",
    "ElasticNetCV")})
_ESTIMATORS.update({name: (_linear.glm, False) for name in (
    "TweedieRegressor", "PoissonRegressor", "GammaRegressor")})
_ESTIMATORS.update({name: (_linear.classifier, True) for name in (
    "LinearSVC", "Perceptron", "PassiveAggressiveClassifier", "RidgeClassifier",
    "RidgeClassifierCV")})
_ESTIMATORS.update({
    "SVC": (_svm.svm, True), "NuSVC": (_svm.svm, True),
    "SVR": (_svm.svm, False), "NuSVR": (_svm.svm, False),
    "OneClassSVM": (_svm.svm, "outlier"),
    "KNeighborsClassifier": (lambda e: _neighbors.kneighbors(e, True), True),
    "KNeighborsRegressor": (lambda e: _neighbors.kneighbors(e, False), False),
    "RadiusNeighborsClassifier": (lambda e: _neighbors.radius_neighbors(e, True), True),
    "RadiusNeighborsRegressor": (lambda e: _neighbors.radius_neighbors(e, False), False),
    "NearestCentroid": (_neighbors.nearest_centroid, True),
    "KMeans": (_neighbors.kmeans, "cluster"),
    "MiniBatchKMeans": (_neighbors.kmeans, "cluster"),
    "IsolationForest": (_trees.isolation_forest, "outlier"),
    "SGDClassifier": (_linear.sgd_classifier, True),
    "LinearDiscriminantAnalysis": (_linear.lda, True),
    "MultinomialNB": (_linear.multinomial_nb, True),
    "ComplementNB": (_linear.complement_nb, True),
    "BernoulliNB": (_linear.bernoulli_nb, True),
})



def _member(est, classifier):
    """One step for a fitted sub-estimator of a meta-estimator: its converter's step, or a
    `pipeline` step when it is a Pipeline (or its converter adds a transformer)."""
    scalers, final = _split_pipeline(est)
    conv = _ESTIMATORS.get(type(final).__name__) if _is_sklearn(final) else None
    if conv is None:
        raise _refusal(final, final is not est)
    if type(final).__name__ in _INPUTS_ONLY:
        raise UnsupportedError("%s cannot be a member of a meta-estimator: it can only be "
                               "exported on its own" % est_name(final))
    if (conv[1] is not False) != classifier:
        raise UnsupportedError("%s cannot be a member here: a %s is expected"
                               % (est_name(final), "classifier" if classifier else "regressor"))
    out = conv[0](final)
    steps = [st for s in scalers for st in _dense.transformer_steps(s)] + (
        out if isinstance(out, list) else [out])
    return steps[0] if len(steps) == 1 else {"type": "pipeline", "steps": steps}


_ESTIMATORS.update({
    "VotingClassifier": (lambda e: _ensemble.voting(e, _member, True), True),
    "VotingRegressor": (lambda e: _ensemble.voting(e, _member, False), False),
    "BaggingClassifier": (lambda e: _ensemble.bagging(e, _member, True), True),
    "BaggingRegressor": (lambda e: _ensemble.bagging(e, _member, False), False),
    "AdaBoostClassifier": (lambda e: _ensemble.adaboost(e, _member, True), True),
    "AdaBoostRegressor": (lambda e: _ensemble.adaboost(e, _member, False), False),
    "CalibratedClassifierCV": (lambda e: _ensemble.calibrated(e, _member), True),
    "StackingClassifier": (lambda e: _ensemble.stacking(e, _member, True), True),
    "StackingRegressor": (lambda e: _ensemble.stacking(e, _member, False), False),
    "TransformedTargetRegressor": (lambda e: _ensemble.transformed_target(e, _member), False),
    "LogisticRegressionCV": (_dense.logistic_regression, True),
    "GaussianNB": (_bayes.gaussian_nb, True),
    "QuadraticDiscriminantAnalysis": (_bayes.qda, True),
    "CategoricalNB": (_bayes.categorical_nb, True),
})
# Estimators that read the model's inputs as sent (category indexes) and whose values the
# server checks before predicting: only the whole model, never a member or after a
# transformer (the loader refuses both too).
_INPUTS_ONLY = {"CategoricalNB"}

SUPPORTED = tuple(sorted(_ESTIMATORS))

# Unsupported estimator -> the closest supported one (named in the refusal).
ALTERNATIVES = {
    "GaussianProcessClassifier": "SVC(probability=True)",
    "GaussianProcessRegressor": "SVR(kernel='rbf')",
    "KernelRidge": "SVR(kernel='rbf')",
    "LabelPropagation": "KNeighborsClassifier",
    "LabelSpreading": "KNeighborsClassifier",
    "LocalOutlierFactor": "IsolationForest",
    "EllipticEnvelope": "IsolationForest or OneClassSVM",
    "SGDOneClassSVM": "OneClassSVM(kernel='linear')",
    "DBSCAN": "KMeans (DBSCAN has no predict)",
    "AgglomerativeClustering": "KMeans (it has no predict)",
    "SpectralClustering": "KMeans (it has no predict)",
    "Birch": "KMeans", "MeanShift": "KMeans", "AffinityPropagation": "KMeans",
    "BisectingKMeans": "KMeans",
    "GaussianMixture": "KMeans (hard assignment)",
    "BayesianGaussianMixture": "KMeans (hard assignment)",
    "OneVsRestClassifier": "LogisticRegression(multi_class='ovr') or the estimator itself "
                           "(most are multiclass)",
    "OneVsOneClassifier": "SVC (libsvm is one-vs-one)",
    "MultiOutputRegressor": "one model per target",
    "MultiOutputClassifier": "one model per target",
    "RANSACRegressor": "HuberRegressor",
    "MultiTaskLasso": "Lasso per target",
    "MultiTaskElasticNet": "ElasticNet per target",
    "PLSRegression": "Ridge", "CCA": "PCA + Ridge",
    "ExtraTreeClassifier": "DecisionTreeClassifier", "ExtraTreeRegressor": "DecisionTreeRegressor",
}


def _refusal(est, in_pipeline=False):
    """The UnsupportedError of an estimator the exporter does not know."""
    name = est_name(est)
    if type(est).__module__.split(".")[0] == "xgboost":  # XGBClassifier, XGBRanker, Booster
        return UnsupportedError(
            "%s is an XGBoost model: predictd serves XGBoost's own file without an export "
            "step; save it with model.save_model('m.json') (or .ubj) and serve that file%s"
            % (name, " (the Pipeline's other steps are not part of that file: apply them "
               "before sending rows, or serve a scikit-learn estimator)" if in_pipeline
               else ""))
    alt = ALTERNATIVES.get(name)
    if alt:
        return UnsupportedError("%s is not supported by predictd-export; closest supported: "
                                "%s" % (name, alt.strip()))
    return UnsupportedError("%s is not supported by predictd-export; supported: %s"
                            % (name, ", ".join(SUPPORTED)))


def _is_sklearn(obj):
    return type(obj).__module__.split(".")[0] == "sklearn"


def _check_fitted(est):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted
    try:
        check_is_fitted(est)
    except NotFittedError:
        raise ExportError("%s is not fitted: fit it before exporting" % est_name(est))
    except TypeError as e:  # not an estimator at all
        raise UnsupportedError("%s is not a scikit-learn estimator (%s)" % (est_name(est), e))


def _split_pipeline(est):
    """(list of scaler steps, final estimator) of an estimator or a Pipeline."""
    if type(est).__name__ != "Pipeline" or not _is_sklearn(est):
        return [], est
    parts = [s for _, s in est.steps if s is not None and s != "passthrough"]
    if not parts:
        raise UnsupportedError("Pipeline has no estimator")
    final = parts[-1]
    if type(final).__name__ == "Pipeline":
        raise UnsupportedError("Pipeline: a nested Pipeline as final step is not supported")
    return parts[:-1], final


def _feature_names(est, final, n_features, feature_names):
    names = getattr(est, "feature_names_in_", None)
    if names is None:
        names = getattr(final, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        if feature_names is not None and list(feature_names) != names:
            raise ExportError("feature names given (%s) differ from the names the model was "
                              "fitted with (%s)" % (",".join(feature_names), ",".join(names)))
    elif feature_names is not None:
        names = [str(n) for n in feature_names]
    else:
        names = ["x%d" % i for i in range(n_features)]
    if len(names) != n_features:
        raise ExportError("%d feature names given, the model has %d features"
                          % (len(names), n_features))
    if n_features < 1 or n_features > MAX_FEATURES:
        raise ExportError("the model has %d features; predictd accepts 1..%d"
                          % (n_features, MAX_FEATURES))
    if any(not n for n in names):
        raise ExportError("feature names must not be empty")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ExportError("duplicate feature names: %s" % ", ".join(dup))
    return names


def _default_name(path):
    stem = os.path.splitext(os.path.basename(path))[0]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem)[:MAX_NAME_LEN] or "model"


def to_document(estimator, feature_names=None, name="model", model_version="1"):
    """The predictd model document (a dict ready for json.dump) of a fitted estimator.

    estimator: a fitted scikit-learn estimator or Pipeline (only read, never modified).
    Raises UnsupportedError (naming the estimator) or ExportError."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ExportError("model name %r: use 1..%d characters of [A-Za-z0-9_.-]"
                          % (name, MAX_NAME_LEN))
    scalers, final = _split_pipeline(estimator)
    kind = type(final).__name__
    conv = _ESTIMATORS.get(kind) if _is_sklearn(final) else None
    if conv is None:
        raise _refusal(final, final is not estimator)
    _check_fitted(estimator)
    if kind in _INPUTS_ONLY and scalers:
        raise UnsupportedError("%s reads category indexes as they are sent: it cannot follow "
                               "a transformer (%s)" % (est_name(final), est_name(scalers[0])))
    for s in scalers:
        _check_fitted(s)
    convert, task = conv
    classifier = task is not False
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features is None:
        n_features = getattr(scalers[0] if scalers else final, "n_features_in_")
    names = _feature_names(estimator, final, int(n_features), feature_names)
    # the transformers, column by column (string inputs become codes: _columns.py)
    ctx, cols, steps = _columns.Columns(names), list(names), []
    for s in scalers:
        st, cols = _columns.chain(s, cols, ctx)
        steps.extend(st)
    _columns.check_numeric(cols, ctx, final)
    out = convert(final)  # one step, or a list (an estimator with its own transformer)
    steps.extend(out if isinstance(out, list) else [out])
    doc = {"format": "predictd-model", "version": FORMAT_VERSION, "name": name,
           "model_version": str(model_version), "source": "sklearn", "kind": kind,
           "task": "classification" if classifier else "regression",
           "features": names}
    if task == "outlier":
        doc["classes"] = [-1, 1]
    elif task == "cluster":
        doc["classes"] = list(range(int(final.cluster_centers_.shape[0])))
    elif classifier:
        doc["classes"] = class_labels(final)
    doc["steps"] = steps
    inputs = ctx.finish(doc)
    if inputs:
        doc["inputs"] = inputs
    return doc


def export(estimator, path, feature_names=None, name=None, model_version="1"):
    """Writes the model file of a fitted estimator to `path` (atomically: a temporary
    file in the same directory renamed over `path`). name defaults to path's base name.
    Returns the document written. Raises UnsupportedError/ExportError with nothing
    written, or OSError when the file cannot be written."""
    if name is None:
        name = _default_name(path)
    doc = to_document(estimator, feature_names=feature_names, name=name,
                      model_version=model_version)
    try:
        text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    except ValueError as e:  # a float converter missed a NaN: still refuse cleanly
        raise ExportError("model holds a value JSON cannot carry: %s" % e)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".predictd-export-", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return doc


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def load_estimator(path):
    """Reads a pickled or joblib-dumped estimator. Unpickling runs code from the file:
    only load files you trust."""
    import joblib
    try:
        return joblib.load(path)
    except (OSError, EOFError):
        raise
    except Exception:  # not a joblib file: try the plain pickle protocol
        import pickle
        with open(path, "rb") as f:
            return pickle.load(f)


def main(argv=None):
    """Command-line entry point; returns the exit code (0, 1 I/O error, 2 refused)."""
    p = argparse.ArgumentParser(
        prog="predictd-export",
        description="Export a fitted scikit-learn estimator (pickle or joblib file) to a "
                    "predictd model file.")
    p.add_argument("input", help="pickle or joblib file of a fitted estimator")
    p.add_argument("output", help="model file to write (JSON)")
    p.add_argument("--feature-names", help="comma-separated input feature names "
                   "(default: feature_names_in_, else x0..xN-1)")
    p.add_argument("--name", help="model name (default: the output file's base name)")
    p.add_argument("--model-version", default="1", help="model version string")
    a = p.parse_args(argv)
    names = a.feature_names.split(",") if a.feature_names is not None else None
    try:
        est = load_estimator(a.input)
    except Exception as e:
        print("predictd-export: cannot read %s: %s" % (a.input, e), file=sys.stderr)
        return 1
    try:
        doc = export(est, a.output, feature_names=names, name=a.name,
                     model_version=a.model_version)
    except ExportError as e:
        print("predictd-export: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:
        print("predictd-export: cannot write %s: %s" % (a.output, e), file=sys.stderr)
        return 1
    print("predictd-export: wrote %s (%s, %d features)"
          % (a.output, doc["kind"], len(doc["features"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
