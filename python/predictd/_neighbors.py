"""Converters for scikit-learn 1.2's distance-based estimators:

- KNeighborsClassifier / KNeighborsRegressor -> one `neighbors` step holding the training
  rows (`_fit_X`), their targets (`_y`: class indexes or values), k, the weights and the
  effective metric (euclidean, manhattan, chebyshev or minkowski p >= 1);
  RadiusNeighborsClassifier / Regressor -> the same with `radius` instead of k;
- NearestCentroid -> `centroids` (its `centroids_`, euclidean or manhattan);
- KMeans / MiniBatchKMeans -> `centroids` over `cluster_centers_` with the `transform`
  output (distances to the centres); labels are cluster indexes.
"""

import numpy as np

from ._common import UnsupportedError, est_name, floats, ints, matrix, scalar

_METRICS = {"euclidean": "euclidean", "l2": "euclidean", "manhattan": "manhattan",
            "cityblock": "manhattan", "l1": "manhattan", "chebyshev": "chebyshev",
            "infinity": "chebyshev", "minkowski": "minkowski"}


def _dense(a):
    return a.toarray() if hasattr(a, "toarray") else np.asarray(a)


def kneighbors(est, classifier):
    """KNeighbors*: brute force over the training rows, as docs/model-format.md says."""
    return kneighbors_like(est, classifier)


def kneighbors_like(est, classifier):
    """The `neighbors` step of any fitted neighbours estimator (n_neighbors as fitted)."""
    name = est_name(est)
    if est.weights not in ("uniform", "distance"):
        raise UnsupportedError("%s: weights %r are not supported (uniform or distance)"
                               % (name, est.weights))
    metric = est.effective_metric_
    params = {k: v for k, v in (est.effective_metric_params_ or {}).items()
              if not (k == "w" and v is None)}  # w=None: unweighted, as without it
    kind = _METRICS.get(metric) if isinstance(metric, str) else None
    if kind is None or set(params) - {"p"}:
        raise UnsupportedError("%s: metric %r %s is not supported (euclidean, manhattan, "
                               "chebyshev, minkowski with p >= 1)" % (name, metric, params))
    step = {"type": "neighbors", "metric": kind, "weights": est.weights,
            "n_neighbors": int(getattr(est, "n_neighbors", None) or 1)}
    if kind == "minkowski":
        p = scalar(params.get("p", est.p), name + ".p")
        if not p >= 1:
            raise UnsupportedError("%s: minkowski p=%r is not supported (p >= 1)" % (name, p))
        step["p"] = p
    y = np.asarray(est._y)
    if y.ndim != 1:
        raise UnsupportedError("%s: multi-output targets are not supported" % name)
    step["x"] = matrix(_dense(est._fit_X).astype(np.float64), name + "._fit_X")
    step["y"] = ints(y) if classifier else floats(y, name + "._y")
    return step


def radius_neighbors(est, classifier):
    """RadiusNeighbors*: every training row within `radius`. A classifier needs an
    outlier_label among its classes (a row without neighbours then takes it, as
    scikit-learn does; without one scikit-learn raises for such a row)."""
    name = est_name(est)
    step = kneighbors_like(est, classifier)
    del step["n_neighbors"]
    step["radius"] = scalar(est.radius, name + ".radius")
    if classifier:
        labels = est.outlier_label_
        if labels is None:
            raise UnsupportedError("%s: set outlier_label (a class or 'most_frequent') so "
                                   "that a row without neighbours has an answer" % name)
        idx = np.flatnonzero(np.asarray(est.classes_) == labels[0])
        if idx.size != 1:
            raise UnsupportedError("%s: outlier_label %r is not one of the classes"
                                   % (name, labels[0]))
        step["outlier_class"] = int(idx[0])
    return step


def nearest_centroid(est):
    """NearestCentroid: the label of the nearest centroid."""
    kind = _METRICS.get(est.metric) if isinstance(est.metric, str) else None
    if kind not in ("euclidean", "manhattan"):
        raise UnsupportedError("NearestCentroid: metric %r is not supported (euclidean, "
                               "manhattan)" % (est.metric,))
    return {"type": "centroids", "metric": kind,
            "centers": matrix(est.centroids_, "NearestCentroid.centroids_")}


def kmeans(est):
    """KMeans / MiniBatchKMeans: predict = nearest centre, transform = distances."""
    return {"type": "centroids", "metric": "euclidean", "transform": True,
            "centers": matrix(est.cluster_centers_, est_name(est) + ".cluster_centers_")}
