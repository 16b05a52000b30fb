"""Converters for the column-wise steps of a scikit-learn 1.2 pipeline fitted on a
DataFrame with string and numeric columns: ColumnTransformer, SimpleImputer,
MissingIndicator, OneHotEncoder, OrdinalEncoder, nested transformer Pipelines, and the
numeric transformers of _dense.TRANSFORMERS inside them.

The predictd format works in code space (docs/model-format.md "inputs"): a string input
column's values reach the steps as codes, the index of the string in that input's
vocabulary, so every step is numeric. While converting, each column of the current stage
remembers which raw input it carries unchanged (its provenance: the input's name, or None
for a computed column); a step that meets strings writes placeholders (_Code) which
`Columns.finish` replaces with the final codes once every string of every input is known.

Encoders are converted through their own transform: each category (and an unseen value)
is passed through the fitted encoder and the output read back, so infrequent grouping,
drop and encoded values are exactly the library's.
"""

import math
import warnings

import numpy as np

from ._common import UnsupportedError, est_name
from . import _dense

# A value no fitted encoder knows, to read what it writes for an unknown category.
_UNSEEN_STR = "\x00predictd-unseen\x00"


class _Code:
    """The code of string `value` in input `inp`, resolved by Columns.finish."""
    __slots__ = ("inp", "value")

    def __init__(self, inp, value):
        self.inp, self.value = inp, value


def _is_nan(v):
    return isinstance(v, float) and math.isnan(v) or v is None or (
        isinstance(v, np.floating) and np.isnan(v))


def _is_str_array(a):
    a = np.asarray(a)
    return a.dtype.kind in "OUS" and any(isinstance(v, str) for v in a.ravel())


class Columns:
    """The conversion state of one model: each raw input's type, the strings met in each
    string input, and the values an encoder with handle_unknown="error" accepts."""

    def __init__(self, names):
        self.names = list(names)
        self.types = {}     # input -> "string" | "number" (once a step tells)
        self.strings = {}   # string input -> {string: None} in order met
        self.known = {}     # input -> set of accepted values (error-mode encoders)
        self.read = set()   # inputs some step (or the estimator) reads

    def set_type(self, inp, t, who):
        if inp is None:
            if t == "string":
                raise UnsupportedError("%s reads strings from a computed column; predictd "
                                       "maps strings of raw input columns only" % who)
            return
        old = self.types.setdefault(inp, t)
        if old != t:
            raise UnsupportedError("input %r is used both as a %s and as a %s column (%s)"
                                   % (inp, old, t, who))

    def value(self, inp, v, is_str, who):
        """What a step's file holds for value v of a column: a _Code for a string, None for
        NaN, else a float."""
        if _is_nan(v):
            return None
        if is_str:
            if not isinstance(v, str):
                raise UnsupportedError("%s: column %r mixes strings and %s values"
                                       % (who, inp, type(v).__name__))
            self.strings.setdefault(inp, {})[v] = None
            return _Code(inp, v)
        return float(v)

    def require_known(self, inp, values, who):
        if inp is None:
            raise UnsupportedError("%s(handle_unknown='error') reads a computed column: the "
                                   "values it refuses cannot be checked when a request is "
                                   "decoded; use handle_unknown='ignore'" % who)
        vals = {v for v in values if not _is_nan(v)}
        self.known[inp] = vals if inp not in self.known else self.known[inp] & vals

    def finish(self, doc):
        """Orders each string input's vocabulary (accepted strings first, then the others,
        each sorted), replaces every _Code in doc and returns the "inputs" object."""
        inputs, codes = {}, {}
        for inp in self.names:
            if inp not in self.read and inp not in self.types:
                # dropped by every ColumnTransformer: its type is unknown (a DataFrame's
                # dtypes are not kept), so it takes a string or a number, never read
                self.types[inp] = "string"
            if self.types.get(inp) == "string":
                seen = set(self.strings.get(inp, {}))
                known = self.known.get(inp)
                first = sorted(seen & known if known is not None else seen)
                rest = sorted(seen - set(first))
                vocab = first + rest
                codes[inp] = {s: i for i, s in enumerate(vocab)}
                ent = {"type": "string", "categories": vocab}
                if known is not None:
                    ent["unknown"] = "error"
                    ent["n_known"] = len(first)
                inputs[inp] = ent
            elif inp in self.known:
                inputs[inp] = {"type": "number", "unknown": "error",
                               "categories": sorted(float(v) for v in self.known[inp])}

        def walk(o):
            if isinstance(o, _Code):
                return float(codes[o.inp][o.value])
            if isinstance(o, dict):
                return {k: walk(v) for k, v in o.items()}
            if isinstance(o, list):
                return [walk(v) for v in o]
            return o
        doc.update(walk({k: v for k, v in doc.items()}))
        return inputs


def _probe(t, cols_values):
    """t.transform of a table given column by column (lists of equal length), as a
    DataFrame when t was fitted on one; dense float64 result."""
    names = getattr(t, "feature_names_in_", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if names is not None:
            import pandas as pd
            X = pd.DataFrame({n: pd.Series(v, dtype=object if any(
                isinstance(x, str) for x in v) else np.float64) for n, v in
                zip(names, cols_values)})
        else:
            X = np.array(cols_values, dtype=object).T
        Y = t.transform(X)
    if hasattr(Y, "toarray"):
        Y = Y.toarray()
    return np.asarray(Y, dtype=np.float64)


def _unseen(cats):
    """A value of a category array's kind that is none of its categories."""
    if _is_str_array(cats):
        return _UNSEEN_STR
    finite = [float(c) for c in cats if not _is_nan(c)]
    return (max(finite) if finite else 0.0) * 2 + 1.5


def _encoder_probes(t):
    """(per column: list of (category, output row)), (per column: unseen output row or
    None) from transforming each category and, unless handle_unknown is 'error', one
    unseen value per column."""
    cats = t.categories_
    base = [c[0] for c in cats]
    rows, where = [], []
    for j, c in enumerate(cats):
        for k in range(len(c)):
            rows.append([c[k] if i == j else base[i] for i in range(len(cats))])
            where.append((j, k))
    unk = t.handle_unknown != "error"
    if unk:
        for j, c in enumerate(cats):
            rows.append([_unseen(c) if i == j else base[i] for i in range(len(cats))])
            where.append((j, None))
    Y = _probe(t, [list(col) for col in zip(*rows)])
    per = [[] for _ in cats]
    unseen = [None] * len(cats)
    for (j, k), y in zip(where, Y):
        if k is None:
            unseen[j] = y
        else:
            per[j].append((cats[j][k], y))
    return per, unseen


def _onehot(t, cols, ctx):
    name = est_name(t)
    offs = np.cumsum([0] + list(t._n_features_outs))
    per, unseen = _encoder_probes(t)
    feats = []
    for j, inp in enumerate(cols):
        is_str = _is_str_array(t.categories_[j])
        ctx.set_type(inp, "string" if is_str else "number", name)
        lo, hi = offs[j], offs[j + 1]

        def out(y):
            hot = np.flatnonzero(y[lo:hi] == 1.0)
            return int(lo + hot[0]) if len(hot) else -1
        f = {"categories": [ctx.value(inp, c, is_str, name) for c, _ in per[j]],
             "outputs": [out(y) for _, y in per[j]]}
        if unseen[j] is not None:
            f["unknown_output"] = out(unseen[j])
        if t.handle_unknown == "error":
            ctx.require_known(inp, t.categories_[j], name)
        feats.append(f)
    step = {"type": "onehot_encoder", "n_out": int(offs[-1]),
            "handle_unknown": t.handle_unknown, "features": feats}
    return [step], [None] * int(offs[-1])


def _ordinal(t, cols, ctx):
    name = est_name(t)
    per, unseen = _encoder_probes(t)
    feats = []
    for j, inp in enumerate(cols):
        is_str = _is_str_array(t.categories_[j])
        ctx.set_type(inp, "string" if is_str else "number", name)
        feats.append({"categories": [ctx.value(inp, c, is_str, name) for c, _ in per[j]],
                      "values": [None if np.isnan(y[j]) else float(y[j]) for _, y in per[j]]})
        if t.handle_unknown == "error":
            ctx.require_known(inp, t.categories_[j], name)
    step = {"type": "ordinal_encoder", "features": feats}
    if t.handle_unknown != "error":
        u = float(t.unknown_value)
        step["unknown_value"] = None if math.isnan(u) else u
    return [step], [None] * len(cols)


def _missing(t, cols, ctx, is_str, name):
    mv = t.missing_values
    if _is_nan(mv):
        return None
    if isinstance(mv, str) != bool(is_str):
        raise UnsupportedError("%s: missing_values=%r on %s columns" % (
            name, mv, "string" if is_str else "number"))
    return [ctx.value(inp, mv, is_str, name) for inp in cols]


def _imputer(t, cols, ctx):
    name = est_name(t)
    stats = np.asarray(t.statistics_)
    is_str = t._fit_dtype.kind in "OUS"
    for inp in cols:
        ctx.set_type(inp, "string" if is_str else "number", name)
    if t.strategy == "constant":
        keep = list(range(len(cols)))
    else:
        keep = [j for j in range(len(cols)) if not _is_nan(stats[j])]
        if getattr(t, "keep_empty_features", False) and len(keep) != len(cols):
            raise UnsupportedError("%s(keep_empty_features=True) with an empty column is "
                                   "not supported" % name)
    step = {"type": "simple_imputer", "missing": _missing(t, cols, ctx, is_str, name),
            "columns": keep,
            "fill": [ctx.value(cols[j], stats[j], is_str, name) for j in keep]}
    if any(f is None for f in step["fill"]):
        raise UnsupportedError("%s: a fill value is NaN" % name)
    out = [cols[j] for j in keep]
    if t.add_indicator:
        ind = [int(i) for i in t.indicator_.features_]
        step["indicator"] = ind
        out += [None] * len(ind)
    if not out:
        raise UnsupportedError("%s writes no column" % name)
    return [step], out


def _indicator(t, cols, ctx):
    name = est_name(t)
    ind = [int(i) for i in t.features_]
    if t.features == "missing-only" and t.error_on_new and len(ind) != len(cols):
        raise UnsupportedError("%s(error_on_new=True) refuses missing values in columns "
                               "that had none when fitted, which a served model cannot "
                               "do per row; set error_on_new=False" % name)
    is_str = isinstance(t.missing_values, str)
    step = {"type": "missing_indicator",
            "missing": _missing(t, cols, ctx, is_str, name), "indicator": ind}
    if not ind:
        raise UnsupportedError("%s writes no column" % name)
    return [step], [None] * len(ind)


def _column_transformer(t, cols, ctx):
    entries, out = [], []
    for key, trans, _ in t.transformers_:
        idx = [int(i) for i in t._transformer_to_input_indices.get(key, [])]
        if not idx or (isinstance(trans, str) and trans == "drop"):
            continue
        sub = [cols[i] for i in idx]
        if isinstance(trans, str) and trans == "passthrough":
            steps, oc = [], sub
            ctx.read.update(c for c in sub if c is not None)
        else:
            steps, oc = chain(trans, sub, ctx)
        entries.append({"columns": idx, "steps": steps})
        out += oc
    if not entries:
        raise UnsupportedError("ColumnTransformer writes no column")
    return [{"type": "column_transformer", "transformers": entries}], out


def _numeric(t, cols, ctx):
    """A transformer of _dense.TRANSFORMERS: numbers in, numbers out."""
    name = est_name(t)
    for inp in cols:
        ctx.set_type(inp, "number", name)
    steps = _dense.transformer_steps(t)
    # 1.0, not 0.0: a Box-Cox PowerTransformer refuses non-positive values
    width = _probe(t, [[1.0] for _ in cols]).shape[1]
    return steps, [None] * width


_CONVERTERS = {"ColumnTransformer": _column_transformer, "SimpleImputer": _imputer,
               "MissingIndicator": _indicator, "OneHotEncoder": _onehot,
               "OrdinalEncoder": _ordinal}

assert tuple(sorted(_CONVERTERS)) == _dense.COLUMN_STEPS  # the names refusals list


def chain(t, cols, ctx):
    """(steps, output columns' provenance) of fitted transformer t (or a Pipeline of
    transformers) reading columns `cols` (provenance: input name or None)."""
    kind = type(t).__name__
    if kind != "ColumnTransformer" and kind != "Pipeline":
        ctx.read.update(c for c in cols if c is not None)
    if type(t).__module__.split(".")[0] != "sklearn":
        return _numeric(t, cols, ctx)  # transformer_steps refuses it with its reason
    if kind == "Pipeline":
        steps = []
        for _, s in t.steps:
            if s is None or (isinstance(s, str) and s == "passthrough"):
                continue
            st, cols = chain(s, cols, ctx)
            steps += st
        return steps, cols
    fn = _CONVERTERS.get(kind)
    if fn is not None:
        return fn(t, cols, ctx)
    return _numeric(t, cols, ctx)


def check_numeric(cols, ctx, final):
    """Refuses a string column reaching the estimator."""
    ctx.read.update(c for c in cols if c is not None)
    for inp in cols:
        if inp is not None and ctx.types.get(inp) == "string":
            raise UnsupportedError("input %r reaches %s as strings: encode it first (e.g. "
                                   "OneHotEncoder in a ColumnTransformer)"
                                   % (inp, est_name(final)))
