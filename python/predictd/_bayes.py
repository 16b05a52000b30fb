"""Converters of scikit-learn 1.2's Gaussian class-conditional models: GaussianNB
(`gaussian_nb` step) and QuadraticDiscriminantAnalysis (`qda`). The constants each
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
