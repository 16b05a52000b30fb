"""Converters of scikit-learn 1.2's class-conditional models: GaussianNB (`gaussian_nb`
step), QuadraticDiscriminantAnalysis (`qda`) and CategoricalNB (`categorical_nb`). The constants each
predict adds per class are computed here with the very numpy expressions scikit-learn
evaluates (so they are the same doubles); the per-row terms are left to the kernel."""

import numpy as np

from ._common import UnsupportedError, est_name, floats, matrix


def gaussian_nb(est):
    """GaussianNB: jll_i = log(prior_i) + (-0.5 Σ log(2π var_i) - 0.5 Σ (x - θ_i)² / var_i)."""
    name = est_name(est)
    var = np.asarray(est.var_, dtype=np.float64)
    c = [-0.5 * np.sum(np.log(2.0 * np.pi * var[i, :])) for i in range(len(est.classes_))]
    return {"type": "gaussian_nb", "theta": matrix(est.theta_, name + ".theta_"),
            "var": matrix(var, name + ".var_"), "c": floats(c, name + " constants"),
            "log_prior": floats(np.log(est.class_prior_), name + ".class_prior_")}


def qda(est):
    """QuadraticDiscriminantAnalysis: W_i = rotations_i * scalings_i ** -0.5."""
    name = est_name(est)
    w, u = [], []
    for i in range(len(est.classes_)):
        r, s = est.rotations_[i], est.scalings_[i]
        if np.ndim(r) != 2 or r.shape[1] < 1:
            raise UnsupportedError("%s: class %d has an empty rotation" % (name, i))
        w.append(matrix(r * (s ** (-0.5)), "%s.rotations_[%d]" % (name, i)))
        u.append(np.sum(np.log(s)))
    return {"type": "qda", "means": matrix(est.means_, name + ".means_"), "w": w,
            "u": floats(u, name + " log scalings"),
            "log_prior": floats(np.log(est.priors_), name + ".priors_")}


def categorical_nb(est):
    """CategoricalNB: feature_log_prob_[j] (n_classes x n_categories_[j]) per feature and
    class_log_prior_, as fitted; the kernel indexes them by the category (sklearn's jll)."""
    name = est_name(est)
    flp = list(est.feature_log_prob_)
    n_cat = np.asarray(est.n_categories_)
    if len(flp) != est.n_features_in_ or len(n_cat) != len(flp):
        raise UnsupportedError("%s: %d feature_log_prob_ blocks for %d features"
                               % (name, len(flp), est.n_features_in_))
    blocks = []
    for j, block in enumerate(flp):
        block = np.asarray(block, dtype=np.float64)
        if block.ndim != 2 or block.shape != (len(est.classes_), int(n_cat[j])):
            raise UnsupportedError("%s: feature_log_prob_[%d] has shape %s, expected (%d, %d)"
                                   % (name, j, block.shape, len(est.classes_), int(n_cat[j])))
        blocks.append(matrix(block, "%s.feature_log_prob_[%d]" % (name, j)))
    return {"type": "categorical_nb", "feature_log_prob": blocks,
            "class_log_prior": floats(est.class_log_prior_, name + ".class_log_prior_")}
