"""Converters for scikit-learn 1.2's meta-estimators over other supported estimators:
VotingClassifier/Regressor, BaggingClassifier/Regressor, AdaBoostClassifier/Regressor
(`ensemble` step), CalibratedClassifierCV (`calibrated`), StackingClassifier/Regressor
(`stacking`) and TransformedTargetRegressor (`transformed_target`).

Each takes the fitted meta-estimator and `member`, export.py's converter of one fitted
sub-estimator (or Pipeline) into one step (a `pipeline` step when it has transformers).
Member classes are mapped to the meta-estimator's: sub-estimators fitted on encoded
labels (voting, bagging, stacking) name class indexes; the others (AdaBoost, calibration)
name labels, found in the meta-estimator's classes_.
"""

import numpy as np

from ._common import UnsupportedError, est_name, floats, ints, scalar


def _encoded_classes(sub):
    return ints(sub.classes_)


def _label_classes(parent, sub):
    idx = np.searchsorted(parent.classes_, sub.classes_)
    if (idx >= len(parent.classes_)).any() or \
            (np.asarray(parent.classes_)[np.minimum(idx, len(parent.classes_) - 1)] !=
             np.asarray(sub.classes_)).any():
        raise UnsupportedError("%s: a member's classes are not the model's" % est_name(parent))
    return ints(idx)


def voting(est, member, classifier):
    """VotingClassifier (soft/hard) / VotingRegressor: weighted average or vote."""
    subs = list(est.estimators_)
    weights = est._weights_not_none
    weights = [1.0] * len(subs) if weights is None else [float(w) for w in weights]
    members = []
    for sub, w in zip(subs, weights):
        m = {"step": member(sub, classifier), "weight": w}
        if classifier:
            m["classes"] = _encoded_classes(sub)
        members.append(m)
    return {"type": "ensemble", "combine": est.voting if classifier else "soft",
            "members": members}


def bagging(est, member, classifier):
    """BaggingClassifier / BaggingRegressor over feature subsets."""
    members = []
    for sub, feats in zip(est.estimators_, est.estimators_features_):
        m = {"step": member(sub, classifier), "features": ints(feats)}
        if classifier:
            m["classes"] = _encoded_classes(sub)
        members.append(m)
    return {"type": "ensemble", "combine": "bagging", "members": members}


def adaboost(est, member, classifier):
    """AdaBoostClassifier (SAMME, SAMME.R) / AdaBoostRegressor (weighted median)."""
    subs = list(est.estimators_)
    weights = np.asarray(est.estimator_weights_, dtype=np.float64)[:len(subs)]
    members = []
    for sub, w in zip(subs, weights):
        m = {"step": member(sub, classifier), "weight": float(w)}
        if classifier:
            m["classes"] = _label_classes(est, sub)
        members.append(m)
    step = {"type": "ensemble", "members": members,
            "combine": est.algorithm if classifier else "median"}
    if classifier:
        step["weight_sum"] = scalar(np.sum(est.estimator_weights_), est_name(est) + " weights")
    return step


def _calibrator(cal, what):
    if type(cal).__name__ == "_SigmoidCalibration":
        return {"method": "sigmoid", "a": scalar(cal.a_, what + ".a_"),
                "b": scalar(cal.b_, what + ".b_")}
    if type(cal).__name__ == "IsotonicRegression":
        if cal.out_of_bounds != "clip":
            raise UnsupportedError("%s: out_of_bounds %r" % (what, cal.out_of_bounds))
        return {"method": "isotonic", "x": floats(cal.X_thresholds_, what + ".X_thresholds_"),
                "y": floats(cal.y_thresholds_, what + ".y_thresholds_"),
                "min": scalar(cal.X_min_, what + ".X_min_"),
                "max": scalar(cal.X_max_, what + ".X_max_")}
    raise UnsupportedError("%s: calibrator %s is not supported" % (what, type(cal).__name__))


def calibrated(est, member):
    """CalibratedClassifierCV: the mean of its calibrated classifiers' probabilities."""
    name = est_name(est)
    members, inputs = [], set()
    for i, cc in enumerate(est.calibrated_classifiers_):
        base = cc.estimator
        inputs.add("decision_function" if hasattr(base, "decision_function")
                   else "predict_proba")
        members.append({"step": member(base, True), "classes": _label_classes(est, base),
                        "calibrators": [_calibrator(c, "%s calibrator %d" % (name, i))
                                        for c in cc.calibrators]})
    if len(inputs) != 1:
        raise UnsupportedError("%s: calibrated classifiers read different methods" % name)
    return {"type": "calibrated", "input": inputs.pop(), "members": members}


def stacking(est, member, classifier):
    """StackingClassifier / StackingRegressor: members' outputs, then final_estimator_."""
    members = []
    for sub, meth in zip(est.estimators_, est.stack_method_):
        if isinstance(sub, str):  # "drop"
            continue
        m = {"step": member(sub, classifier), "method": meth}
        if classifier:
            m["classes"] = _encoded_classes(sub)
        members.append(m)
    return {"type": "stacking", "members": members, "passthrough": bool(est.passthrough),
            "final": member(est.final_estimator_, classifier)}


_INVERSE_FUNCS = {"exp": "exp", "expm1": "expm1", "log": "log", "log1p": "log1p",
                  "sqrt": "sqrt", "square": "square"}


def transformed_target(est, member):
    """TransformedTargetRegressor: the regressor, then the target transformer's inverse."""
    name = est_name(est)
    t = est.transformer_
    kind = type(t).__name__
    step = {"type": "transformed_target", "regressor": member(est.regressor_, False)}
    if kind == "FunctionTransformer":
        f = t.inverse_func
        inv = "identity" if f is None else _INVERSE_FUNCS.get(getattr(f, "__name__", ""))
        if inv is None or (f is not None and type(f).__name__ != "ufunc") or t.inv_kw_args:
            raise UnsupportedError("%s: inverse_func %r is not supported (numpy's %s)"
                                   % (name, f, ", ".join(sorted(_INVERSE_FUNCS))))
        step["inverse"] = inv
    elif kind == "StandardScaler":
        step["inverse"] = "standard"
        if t.scale_ is not None:
            step["scale"] = scalar(t.scale_, name + " scale_")
        if t.mean_ is not None and t.with_mean:
            step["mean"] = scalar(t.mean_, name + " mean_")
    elif kind == "MinMaxScaler" and not t.clip:
        step.update({"inverse": "minmax", "min": scalar(t.min_, name + " min_"),
                     "scale": scalar(t.scale_, name + " scale_")})
    else:
        raise UnsupportedError("%s: transformer %s is not supported (StandardScaler, "
                               "MinMaxScaler or inverse_func)" % (name, kind))
    return step
