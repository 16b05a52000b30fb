"""Shared helpers of the exporter: the error types and the checked conversions of numpy
arrays into JSON-ready Python lists.

Invariant: every float that leaves this module is a finite Python float (json.dumps
then prints it with repr, the shortest text that reads back to the same double), so a
model file never holds NaN or Infinity and never loses a bit of a threshold or weight.
"""

import math

import numpy as np


class ExportError(Exception):
    """A model cannot be exported (bad arguments, non-finite numbers, unfitted...)."""


class UnsupportedError(ExportError):
    """The estimator, or an option of it, has no equivalent in the predictd format."""


def est_name(est):
    """The class name of an estimator, as shown in error messages."""
    return type(est).__name__


def floats(arr, what):
    """A flat list of finite Python floats from any numeric array; raises ExportError
    naming `what` when an entry is NaN or infinite."""
    a = np.asarray(arr, dtype=np.float64).ravel()
    if a.size and not np.isfinite(a).all():
        raise ExportError("%s holds NaN or Infinity; the predictd format cannot carry it"
                          % what)
    return a.tolist()


def matrix(arr, what):
    """A list of rows (lists of finite floats) from a 2-D array."""
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim != 2:
        raise ExportError("%s: expected a 2-D array, got shape %s" % (what, a.shape))
    if a.size and not np.isfinite(a).all():
        raise ExportError("%s holds NaN or Infinity; the predictd format cannot carry it"
                          % what)
    return a.tolist()


def ints(arr):
    """A flat list of Python ints from an integer array."""
    return np.asarray(arr, dtype=np.int64).ravel().tolist()


def scalar(x, what):
    """One finite Python float."""
    v = float(np.asarray(x, dtype=np.float64).ravel()[0]) if np.ndim(x) else float(x)
    if not math.isfinite(v):
        raise ExportError("%s is NaN or Infinity; the predictd format cannot carry it" % what)
    return v


def class_labels(est):
    """The classes_ of a classifier as a JSON list: all ints or all strings.

    Float labels that are whole numbers become ints (sklearn then prints e.g. 1.0 where
    predictd prints 1); other label types are refused."""
    classes = np.asarray(est.classes_)
    if classes.ndim != 1:
        raise UnsupportedError("%s: multi-output classification is not supported"
                               % est_name(est))
    if len(classes) < 2:
        raise UnsupportedError("%s: fitted on a single class; predictd needs 2 or more"
                               % est_name(est))
    kind = classes.dtype.kind
    if kind in "iu":
        return [int(c) for c in classes]
    if kind == "b":
        return [int(c) for c in classes]
    if kind == "f":
        if np.isfinite(classes).all() and (classes == np.round(classes)).all():
            return [int(c) for c in classes]
        raise UnsupportedError("%s: class labels %s are not whole numbers; use integer or "
                               "string labels" % (est_name(est), classes[:5].tolist()))
    if kind in "US":
        return [str(c) for c in classes]
    if kind == "O" and all(isinstance(c, str) for c in classes):
        return [str(c) for c in classes]
    if kind == "O" and all(isinstance(c, (int, np.integer)) and not isinstance(c, bool)
                           for c in classes):
        return [int(c) for c in classes]
    raise UnsupportedError("%s: class labels must be all integers or all strings, got %r"
                           % (est_name(est), classes[:5].tolist()))
