"""Converters for the dense (non-tree) parts of a model: the scalers and the other numeric
transformers (PCA, PolynomialFeatures, KBinsDiscretizer, Normalizer, QuantileTransformer,
PowerTransformer, ...), the linear models and the multi-layer perceptrons of
scikit-learn 1.2.

Each converter takes a fitted estimator and returns one `steps` entry of the predictd
format (docs/model-format.md), or raises UnsupportedError naming the estimator. Each one
reproduces the arithmetic of the estimator's own transform/predict/predict_proba, so that
predictions computed from the file equal the library's.
"""

import numpy as np

from ._common import UnsupportedError, est_name, floats, matrix, scalar


# ---- scalers ---------------------------------------------------------------------------

def _standard(s):
    step = {"type": "standard_scaler"}
    if s.with_mean:  # transform: X -= mean_ only when with_mean
        step["mean"] = floats(s.mean_, "StandardScaler.mean_")
    if s.with_std:  # X /= scale_ only when with_std (zero variances already became 1)
        step["scale"] = floats(s.scale_, "StandardScaler.scale_")
    return step


def _minmax(s):
    if getattr(s, "clip", False):
        raise UnsupportedError("MinMaxScaler(clip=True) is not supported: the predictd "
                               "format has no clipping step")
    return {"type": "minmax_scaler", "scale": floats(s.scale_, "MinMaxScaler.scale_"),
            "min": floats(s.min_, "MinMaxScaler.min_")}


def _maxabs(s):
    return {"type": "maxabs_scaler", "scale": floats(s.scale_, "MaxAbsScaler.scale_")}


def _robust(s):
    step = {"type": "robust_scaler"}
    if s.with_centering:
        step["center"] = floats(s.center_, "RobustScaler.center_")
    if s.with_scaling:
        step["scale"] = floats(s.scale_, "RobustScaler.scale_")
    return step


def _pca(s):
    """PCA / IncrementalPCA (_BasePCA.transform): (x - mean_) @ components_.T, divided by
    sqrt(explained_variance_) when whiten."""
    name = est_name(s)
    step = {"type": "projection", "components": matrix(s.components_, name + ".components_")}
    if getattr(s, "mean_", None) is not None:
        step["mean"] = floats(s.mean_, name + ".mean_")
    if s.whiten:
        step["scale"] = floats(np.sqrt(s.explained_variance_), name + ".explained_variance_")
    return step


def _truncated_svd(s):
    """TruncatedSVD.transform: X @ components_.T (no centring)."""
    return {"type": "projection",
            "components": matrix(s.components_, "TruncatedSVD.components_")}


def _binarizer(s):
    return {"type": "binarizer", "threshold": scalar(s.threshold, "Binarizer.threshold")}


def _polynomial(s):
    """PolynomialFeatures: one term per output column (powers_ rows, in the library's
    column order). transform builds a degree-d column for features i1 <= ... <= id as
    (column of i2..id) * x[i1], i.e. ((x[id] * x[id-1]) * ...) * x[i1]: the file lists
    each term's features in that multiplication order (descending)."""
    powers = np.asarray(s.powers_)
    terms = []
    for row in powers:
        idx = [int(j) for j in range(len(row)) for _ in range(int(row[j]))]
        terms.append(idx[::-1])
    return {"type": "polynomial_features", "terms": terms}


def _kbins(s):
    """KBinsDiscretizer: the inner edges bin_edges_[j][1:-1] of each column (searchsorted
    side="right" on them is the bin); encode ordinal, or onehot / onehot-dense (the sparse
    one-hot's values, densified, are the same)."""
    if getattr(s, "dtype", None) not in (None, np.float64):
        raise UnsupportedError("KBinsDiscretizer(dtype=%s) is not supported: use the default "
                               "(float64)" % s.dtype)
    edges = [floats(np.asarray(e, dtype=np.float64)[1:-1],
                    "KBinsDiscretizer.bin_edges_[%d]" % j) for j, e in enumerate(s.bin_edges_)]
    return {"type": "kbins_discretizer", "inner_edges": edges,
            "encode": "ordinal" if s.encode == "ordinal" else "onehot"}


def _normalizer(s):
    if s.norm not in ("l1", "l2", "max"):
        raise UnsupportedError("Normalizer(norm=%r) is not supported" % (s.norm,))
    return {"type": "normalizer", "norm": s.norm}


def _quantile(s):
    """QuantileTransformer: quantiles_ per column (transposed), references_, and for the
    normal output scipy's own clip bounds (ppf(1e-7 - eps), ppf(1 - (1e-7 - eps)))."""
    from scipy import stats
    step = {"type": "quantile_transformer", "output": s.output_distribution,
            "references": floats(s.references_, "QuantileTransformer.references_"),
            "quantiles": matrix(np.asarray(s.quantiles_).T, "QuantileTransformer.quantiles_")}
    if s.output_distribution == "normal":
        b = 1e-7 - np.spacing(1)  # sklearn's BOUNDS_THRESHOLD - eps
        step["clip"] = [float(stats.norm.ppf(b)), float(stats.norm.ppf(1 - b))]
    return step


def _power(s):
    """PowerTransformer: the per-column transform, then (standardize) its fitted
    StandardScaler as a second step."""
    steps = [{"type": "power_transformer", "method": s.method,
              "lambdas": floats(s.lambdas_, "PowerTransformer.lambdas_")}]
    if s.standardize:
        steps.append(_standard(s._scaler))
    return steps


# class name -> converter of a fitted transformer into its `steps` entry, or a list of
# entries (a model type with the transform role, docs/model-types.md). Exact
# scikit-learn classes only.
TRANSFORMERS = {"StandardScaler": _standard, "MinMaxScaler": _minmax,
                "MaxAbsScaler": _maxabs, "RobustScaler": _robust, "Binarizer": _binarizer,
                "PCA": _pca, "IncrementalPCA": _pca, "TruncatedSVD": _truncated_svd,
                "PolynomialFeatures": _polynomial, "KBinsDiscretizer": _kbins,
                "Normalizer": _normalizer, "QuantileTransformer": _quantile,
                "PowerTransformer": _power}


# Steps converted column by column with the model's string vocabulary (_columns.py), named
# in refusals beside TRANSFORMERS.
COLUMN_STEPS = ("ColumnTransformer", "MissingIndicator", "OneHotEncoder", "OrdinalEncoder",
                "SimpleImputer")

# Unsupported transformer -> the closest supported one (named in the refusal).
TRANSFORMER_ALTERNATIVES = {
    "KernelPCA": "PCA", "FastICA": "PCA", "NMF": "TruncatedSVD",
    "SparsePCA": "PCA", "FactorAnalysis": "PCA", "LatentDirichletAllocation": "TruncatedSVD",
    "GaussianRandomProjection": "PCA", "SparseRandomProjection": "TruncatedSVD",
    "SplineTransformer": "an MLP or a tree model on the raw columns",
    "KNNImputer": "HistGradientBoosting or XGBoost, which take missing values",
}


def transformer_steps(s):
    """The `steps` entries (a list) of a fitted transformer; UnsupportedError for any
    other one."""
    fn = TRANSFORMERS.get(type(s).__name__)
    if fn is None or type(s).__module__.split(".")[0] != "sklearn":
        alt = TRANSFORMER_ALTERNATIVES.get(type(s).__name__)
        raise UnsupportedError(
            "%s is not supported as a pipeline step; %s" % (est_name(s), (
                "closest supported: " + alt) if alt else "supported transformers: " +
                ", ".join(sorted(set(TRANSFORMERS) | set(COLUMN_STEPS)))))
    out = fn(s)
    return out if isinstance(out, list) else [out]


# ---- linear models ---------------------------------------------------------------------

def linear_regressor(est):
    """LinearRegression, Ridge, Lasso, ElasticNet: value = coef . x + intercept."""
    coef = np.asarray(est.coef_, dtype=np.float64)
    if coef.ndim != 1:
        raise UnsupportedError("%s: multi-output regression (coef_ of shape %s) is not "
                               "supported; fit on a 1-D target" % (est_name(est), coef.shape))
    return {"type": "linear", "link": "identity",
            "coef": [floats(coef, "%s.coef_" % est_name(est))],
            "intercept": [scalar(est.intercept_, "%s.intercept_" % est_name(est))]}


def _logistic_is_ovr(est):
    """Mirrors LogisticRegression.predict_proba of scikit-learn 1.2 (not fit's rule)."""
    mc = est.multi_class
    return mc in ("ovr", "warn") or (
        mc == "auto" and (est.classes_.size <= 2
                          or est.solver in ("liblinear", "newton-cholesky")))


def logistic_regression(est):
    """LogisticRegression: binary, one-vs-rest or multinomial, as predict_proba computes."""
    coef = np.asarray(est.coef_, dtype=np.float64)
    icpt = np.asarray(est.intercept_, dtype=np.float64).ravel()
    n_classes = len(est.classes_)
    what = "LogisticRegression"
    if n_classes == 2:
        if coef.shape[0] != 1:
            raise UnsupportedError("LogisticRegression: unexpected coef_ shape %s"
                                   % (coef.shape,))
        step = {"type": "linear", "link": "logistic",
                "coef": matrix(coef, what + ".coef_"), "intercept": floats(icpt, what)}
        if not _logistic_is_ovr(est):
            # multinomial on two classes: softmax([-z, z]) = [1 - s(2z), s(2z)]; doubling
            # is exact in binary floating point, so 2z is computed bit for bit, and
            # decision_function stays z as scikit-learn returns it.
            step["proba_scale"] = 2.0
        return step
    if coef.shape[0] != n_classes:
        raise UnsupportedError("LogisticRegression: unexpected coef_ shape %s" % (coef.shape,))
    return {"type": "linear", "link": "ovr" if _logistic_is_ovr(est) else "softmax",
            "coef": matrix(coef, what + ".coef_"),
            "intercept": floats(icpt, what + ".intercept_")}


# ---- multi-layer perceptrons -----------------------------------------------------------

_ACTIVATIONS = ("identity", "relu", "tanh", "logistic")


def mlp(est, classifier):
    """MLPClassifier/MLPRegressor: dense layers from coefs_ and intercepts_."""
    name = est_name(est)
    if est.activation not in _ACTIVATIONS:
        raise UnsupportedError("%s: activation %r is not supported" % (name, est.activation))
    out = est.out_activation_
    if classifier:
        if getattr(est._label_binarizer, "y_type_", "") == "multilabel-indicator":
            raise UnsupportedError("%s: multilabel classification is not supported" % name)
        expected = "logistic" if len(est.classes_) == 2 else "softmax"
    else:
        if est.n_outputs_ != 1:
            raise UnsupportedError("%s: multi-output regression (%d outputs) is not "
                                   "supported" % (name, est.n_outputs_))
        expected = "identity"
    if out != expected:
        raise UnsupportedError("%s: output activation %r is not supported here" % (name, out))
    layers = []
    for i, (w, b) in enumerate(zip(est.coefs_, est.intercepts_)):
        layers.append({"weights": matrix(w, "%s.coefs_[%d]" % (name, i)),
                       "bias": floats(b, "%s.intercepts_[%d]" % (name, i))})
    return {"type": "mlp", "activation": est.activation, "output_activation": out,
            "layers": layers}
