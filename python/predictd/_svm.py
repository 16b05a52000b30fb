"""Converter of scikit-learn 1.2's libsvm estimators (SVC, NuSVC, SVR, NuSVR, OneClassSVM)
into one `svm` step (docs/model-format.md). The step carries libsvm's own model as
scikit-learn passes it to libsvm.predict: support vectors grouped by class, the raw
`_dual_coef_` and `_intercept_` (= -rho, not the sign-flipped public attributes of a binary
classifier), `_gamma` as fitted, and `_probA`/`_probB` when fitted with probability=True.
"""

import numpy as np

from ._common import UnsupportedError, est_name, floats, ints, matrix, scalar

_KERNELS = ("linear", "poly", "rbf", "sigmoid")


def svm(est):
    """SVC, NuSVC, SVR, NuSVR, OneClassSVM: one `svm` step."""
    name = est_name(est)
    if callable(est.kernel) or est.kernel not in _KERNELS:
        raise UnsupportedError("%s: kernel %r is not supported (only %s)"
                               % (name, est.kernel, ", ".join(_KERNELS)))
    impl = est._impl
    sv = est.support_vectors_
    coef = est._dual_coef_
    if hasattr(sv, "toarray"):  # fitted on sparse data: same numbers, dense
        sv, coef = sv.toarray(), coef.toarray()
    step = {"type": "svm", "svm_type": impl, "kernel": est.kernel,
            "gamma": scalar(est._gamma, name + "._gamma"),
            "coef0": scalar(est.coef0, name + ".coef0"), "degree": int(est.degree),
            "support_vectors": matrix(np.asarray(sv, dtype=np.float64),
                                      name + ".support_vectors_"),
            "dual_coef": matrix(np.asarray(coef, dtype=np.float64), name + "._dual_coef_"),
            "intercept": floats(est._intercept_, name + "._intercept_")}
    if impl in ("c_svc", "nu_svc"):
        step["n_support"] = ints(est._n_support)
        step["decision_function_shape"] = est.decision_function_shape
        step["break_ties"] = bool(est.break_ties)
        if est.probability and np.size(est._probA):
            step["prob_a"] = floats(est._probA, name + ".probA_")
            step["prob_b"] = floats(est._probB, name + ".probB_")
    elif impl == "one_class":
        step["offset"] = scalar(est.offset_, name + ".offset_")
    return step
