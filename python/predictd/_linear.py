"""Converters for scikit-learn 1.2's linear family beyond LinearRegression/Logistic
(_dense.py): every model whose predict is `link(X @ coef_.T + intercept_)`. Each returns one
`linear` step of the predictd format (docs/model-format.md):

- regressors (identity link): LinearSVR, SGDRegressor, PassiveAggressiveRegressor,
  HuberRegressor, QuantileRegressor, BayesianRidge, ARDRegression, Lars, LassoLars,
  OrthogonalMatchingPursuit, TheilSenRegressor and the *CV/IC variants;
- GLMs: TweedieRegressor, PoissonRegressor, GammaRegressor (identity or exp link, as
  the fitted `_base_loss.link` says);
- classifiers: LinearSVC, Perceptron, PassiveAggressiveClassifier, RidgeClassifier(CV),
  SGDClassifier (every loss: log_loss has logistic/one-vs-rest probabilities,
  modified_huber its clipped ones, the others none), LinearDiscriminantAnalysis
  (logistic / softmax of the decision function), MultinomialNB and ComplementNB (softmax
  of the joint log likelihood), BernoulliNB (after a binarizer step).

Labels follow LinearClassifierMixin.predict: binary `classes_[z > 0]`, else the class of
the largest z; z is served as the named output "decision_function" (naive Bayes:
"predict_joint_log_proba", as scikit-learn names it there).
"""

import numpy as np

from ._common import UnsupportedError, est_name, floats, matrix


def _rows(est, coef, icpt, n_rows):
    """coef (n_rows x n_features) and intercept (n_rows) as lists; a scalar intercept
    (fit_intercept=False gives 0.0) is repeated."""
    name = est_name(est)
    coef = np.asarray(coef, dtype=np.float64)
    if coef.ndim == 1:
        coef = coef.reshape(1, -1)
    if coef.shape[0] != n_rows:
        raise UnsupportedError("%s: coef_ of shape %s, expected %d row(s); multi-output "
                               "targets are not supported" % (name, coef.shape, n_rows))
    icpt = np.ravel(np.asarray(icpt, dtype=np.float64))
    if icpt.size == 1 and n_rows > 1:
        icpt = np.repeat(icpt, n_rows)
    if icpt.size != n_rows:
        raise UnsupportedError("%s: intercept_ of shape %s, expected %d"
                               % (name, icpt.shape, n_rows))
    return matrix(coef, name + ".coef_"), floats(icpt, name + ".intercept_")


def regressor(est):
    """Any linear regressor: value = coef . x + intercept."""
    coef, icpt = _rows(est, est.coef_, getattr(est, "intercept_", 0.0), 1)
    return {"type": "linear", "link": "identity", "coef": coef, "intercept": icpt}


def glm(est):
    """TweedieRegressor / PoissonRegressor / GammaRegressor: link.inverse(z)."""
    link = type(est._base_loss.link).__name__
    kind = {"IdentityLink": "identity", "LogLink": "exp"}.get(link)
    if kind is None:
        raise UnsupportedError("%s: link %s is not supported" % (est_name(est), link))
    step = regressor(est)
    step["link"] = kind
    return step


def _decision_rows(est):
    n_classes = len(est.classes_)
    return 1 if n_classes == 2 else n_classes


def classifier(est, link="decision"):
    """A linear classifier with the given link: "decision" (no probabilities), "ovr" /
    "logistic" (binary), "softmax", "modified_huber"."""
    n_rows = _decision_rows(est)
    if link == "ovr" and n_rows == 1:
        link = "logistic"
    coef, icpt = _rows(est, est.coef_, est.intercept_, n_rows)
    return {"type": "linear", "link": link, "coef": coef, "intercept": icpt}


def sgd_classifier(est):
    """SGDClassifier: probabilities for log_loss (expit, one-vs-rest normalised) and
    modified_huber; none for the other losses (as predict_proba refuses them)."""
    link = {"log_loss": "ovr", "log": "ovr", "modified_huber": "modified_huber"}.get(
        est.loss, "decision")
    return classifier(est, link)


def lda(est):
    """LinearDiscriminantAnalysis: proba = expit(decision) (binary) or softmax."""
    return classifier(est, "ovr" if len(est.classes_) == 2 else "softmax")


def _nb_check(est):
    if len(est.classes_) != est.feature_log_prob_.shape[0]:
        raise UnsupportedError("%s: unexpected feature_log_prob_ shape" % est_name(est))


def multinomial_nb(est):
    """MultinomialNB: jll = X @ feature_log_prob_.T + class_log_prior_; softmax."""
    _nb_check(est)
    n = len(est.classes_)
    coef, icpt = _rows(est, est.feature_log_prob_, est.class_log_prior_, n)
    return {"type": "linear", "link": "softmax", "coef": coef, "intercept": icpt,
            "scores_output": "predict_joint_log_proba"}


def complement_nb(est):
    """ComplementNB: jll = X @ feature_log_prob_.T (the prior only with one class)."""
    _nb_check(est)
    n = len(est.classes_)
    coef, icpt = _rows(est, est.feature_log_prob_, np.zeros(n), n)
    return {"type": "linear", "link": "softmax", "coef": coef, "intercept": icpt,
            "scores_output": "predict_joint_log_proba"}


def bernoulli_nb(est):
    """BernoulliNB: [binarizer,] then jll = X @ (flp - neg).T + (class_log_prior_ +
    neg.sum(1)) with neg = log(1 - exp(flp)), grouped as scikit-learn adds them."""
    _nb_check(est)
    flp = np.asarray(est.feature_log_prob_, dtype=np.float64)
    neg = np.log(1 - np.exp(flp))
    n = len(est.classes_)
    coef, icpt = _rows(est, flp - neg, est.class_log_prior_ + neg.sum(axis=1), n)
    step = {"type": "linear", "link": "softmax", "coef": coef, "intercept": icpt,
            "scores_output": "predict_joint_log_proba"}
    if est.binarize is None:
        return [step]
    return [{"type": "binarizer", "threshold": float(est.binarize)}, step]
