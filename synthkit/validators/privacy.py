"""Privacy: how much synthetic rows reveal about the real rows they were learned from.

Every measure is set beside the same measure for a real *holdout* (rows from the same source
that the generator never saw): a fresh real sample is the reference of "no leak".

* exact copies of training rows, against the rate at which holdout rows copy training rows;
* DCR share: the share of synthetic rows closer to a training row than to a holdout row, with
  training and holdout of equal size (50% when the generator learned nothing row-specific);
* NNDR: nearest / second-nearest training distance (small = a row sits on one real record);
* membership inference: an attacker scores candidate records by their distance to the closest
  synthetic row; ROC-AUC and TPR at a low FPR over training (members) vs holdout rows;
* attribute inference on columns marked ``sensitive: true``: an attacker who knows a record's
  other columns takes the sensitive value of its nearest synthetic row; success on training
  records against the same attack on holdout records (the control).

Distance between two rows: sqrt(mean over columns of d_j²), where d_j = |a-b| / range for
numbers and datetimes (range of the training column), 0/1 mismatch for categories, missing
values counting as their own category (and as a mismatch of 1 against a number).

Nearest neighbours are exact: every query row is compared with *every* reference row, in
blocks, with ‖q‖² + ‖r‖² − 2 q·rᵀ as one matrix product per block (categories one-hot scaled
by 1/√2, so a mismatch adds exactly 1), then the few best candidates are re-measured exactly
in float64. The reference side is never subsampled.

Nothing here returns real records: the results are rates, AUCs, quantiles and histograms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from synthkit.data.schema import Schema
from synthkit.errors import DataError
from synthkit.validators._columns import category_codes, category_text, is_numeric, learnable, numbers

# Categories with more levels than this are compared value by value instead of through
# one-hot columns, which would make the matrix product (and its memory) grow with the levels.
MAX_ONE_HOT = 256
# Each block's distance matrix stays under this many float32 cells (~190 MB): large blocks
# keep the matrix product efficient.
BLOCK_CELLS = 48_000_000
REFERENCE_CHUNK = 131_072
# Candidates re-measured in float64 per query: more than k so float32 near-ties resolve exactly.
REFINE_EXTRA = 3


@dataclass
class Encoded:
    """Rows in the distance space: a dense float block plus wide-category codes."""

    dense: np.ndarray  # float32, one-hot categories scaled by 1/sqrt(2), centred
    wide: np.ndarray  # int32 codes of categories with more than MAX_ONE_HOT levels
    exact_num: np.ndarray  # float64 scaled numbers (missing -> fill) for the exact re-measure
    exact_null: np.ndarray  # float64 missing-number indicators
    exact_cat: np.ndarray  # int32 codes of every category column
    width: int  # number of columns: distances are divided by it

    def __len__(self) -> int:
        return self.dense.shape[0]

    def take(self, index: np.ndarray) -> Encoded:
        return Encoded(self.dense[index], self.wide[index], self.exact_num[index], self.exact_null[index],
                       self.exact_cat[index], self.width)


class DistanceSpace:
    """Encodes several tables into one space; ranges come from the first (the training data)."""

    def __init__(self, schema: Schema, columns: list[str] | None = None):
        self.schema = schema
        self.columns = columns

    def encode(self, *frames: pl.DataFrame, exclude: tuple[str, ...] = ()) -> list[Encoded]:
        if not frames:
            return []
        columns = [c for c in (self.columns or learnable(self.schema, frames)) if c not in exclude]
        if not columns:
            raise DataError("no learnable column to measure distances on")
        sizes = [f.height for f in frames]
        num_cols, null_cols, onehot, wide, cat_codes = [], [], [], [], []
        for name in columns:
            if is_numeric(self.schema, name):
                values = [numbers(f.get_column(name)) for f in frames]
                ref = values[0][~np.isnan(values[0])]
                if ref.size == 0:
                    ref = np.concatenate(values)
                    ref = ref[~np.isnan(ref)]
                lo, hi = (float(ref.min()), float(ref.max())) if ref.size else (0.0, 0.0)
                span = hi - lo if hi > lo else 1.0
                fill = float(np.median(ref)) if ref.size else 0.0
                allv = np.concatenate(values)
                isnull = np.isnan(allv)
                num_cols.append((np.where(isnull, fill, allv) - lo) / span)
                if isnull.any():
                    null_cols.append(isnull.astype(np.float64))
            else:
                codes, levels = category_codes(*(f.get_column(name) for f in frames))
                allc = np.concatenate(codes)
                cat_codes.append(allc)
                if len(levels) <= MAX_ONE_HOT:
                    onehot.append((allc, len(levels)))
                else:
                    wide.append(allc)
        total = sum(sizes)
        exact_num = np.stack(num_cols, axis=1) if num_cols else np.zeros((total, 0))
        exact_null = np.stack(null_cols, axis=1) if null_cols else np.zeros((total, 0))
        exact_cat = np.stack(cat_codes, axis=1).astype(np.int32) if cat_codes else np.zeros((total, 0), np.int32)
        width_dense = exact_num.shape[1] + exact_null.shape[1] + sum(k for _, k in onehot)
        dense = np.zeros((total, width_dense), dtype=np.float32)
        dense[:, : exact_num.shape[1]] = exact_num
        at = exact_num.shape[1]
        dense[:, at: at + exact_null.shape[1]] = exact_null
        at += exact_null.shape[1]
        rows = np.arange(total)
        for codes, k in onehot:
            dense[rows, at + codes] = math.sqrt(0.5)
            at += k
        # Centring on the training rows shrinks the norms, and with them float32 cancellation.
        dense -= dense[: sizes[0]].mean(axis=0, dtype=np.float64).astype(np.float32)
        wide_arr = np.stack(wide, axis=1).astype(np.int32) if wide else np.zeros((total, 0), np.int32)
        out, start = [], 0
        for size in sizes:
            part = slice(start, start + size)
            out.append(Encoded(dense[part], wide_arr[part], exact_num[part], exact_null[part],
                               exact_cat[part], len(columns)))
            start += size
        return out


def _exact_sq(query: Encoded, reference: Encoded, qi: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """Exact squared distances (sum over columns) between query rows qi and reference rows ri."""
    d = np.zeros(qi.shape, dtype=np.float64)
    if query.exact_num.shape[1]:
        d += ((query.exact_num[qi] - reference.exact_num[ri]) ** 2).sum(-1)
    if query.exact_null.shape[1]:
        d += ((query.exact_null[qi] - reference.exact_null[ri]) ** 2).sum(-1)
    if query.exact_cat.shape[1]:
        d += (query.exact_cat[qi] != reference.exact_cat[ri]).sum(-1)
    return d


def nearest(query: Encoded, reference: Encoded, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest reference rows for every query row: ``(distances, indices)``, each ``(n, k)``.

    Distances are on the scale of :class:`DistanceSpace` (root mean square per column). Every
    reference row is compared with every query row; memory stays bounded by working in blocks.
    """
    import torch

    if len(reference) == 0:
        raise DataError("nearest-neighbour search against an empty table")
    n_ref = len(reference)
    k = min(k, n_ref)
    kk = min(k + REFINE_EXTRA, n_ref)
    cand_i = np.empty((len(query), kk), dtype=np.int64)
    ref = torch.from_numpy(np.ascontiguousarray(reference.dense))
    ref_t = ref.T.contiguous()
    ref_sq = (ref.double() ** 2).sum(1).float()
    ref_wide = torch.from_numpy(reference.wide) if reference.wide.shape[1] else None
    chunk = min(n_ref, REFERENCE_CHUNK)
    block = max(16, BLOCK_CELLS // chunk)
    buf = torch.empty(min(block, max(len(query), 1)), chunk)
    with torch.inference_mode():
        for start in range(0, len(query), block):
            q = torch.from_numpy(np.ascontiguousarray(query.dense[start:start + block]))
            q_wide = torch.from_numpy(query.wide[start:start + block]) if ref_wide is not None else None
            best_d = best_i = None
            for r0 in range(0, n_ref, chunk):
                width = min(chunk, n_ref - r0)
                d = buf[: q.shape[0], :width]
                # ‖q‖² is the same along a row, so it cannot change the ranking: leave it out.
                torch.addmm(ref_sq[r0:r0 + chunk].unsqueeze(0), q, ref_t[:, r0:r0 + chunk], alpha=-2, out=d)
                if q_wide is not None:
                    for j in range(q_wide.shape[1]):
                        d.add_((q_wide[:, j:j + 1] != ref_wide[r0:r0 + chunk, j]).float())
                vals, idx = torch.topk(d, min(kk, width), dim=1, largest=False, sorted=False)
                idx = idx + r0
                if best_d is None:
                    best_d, best_i = vals.clone(), idx
                else:
                    both_d, both_i = torch.cat([best_d, vals], 1), torch.cat([best_i, idx], 1)
                    sel = torch.topk(both_d, kk, dim=1, largest=False, sorted=False).indices
                    best_d, best_i = both_d.gather(1, sel), both_i.gather(1, sel)
            cand_i[start:start + q.shape[0]] = best_i.numpy()
    rows = np.repeat(np.arange(len(query))[:, None], kk, axis=1)
    exact = _exact_sq(query, reference, rows, cand_i)
    order = np.argsort(exact, axis=1, kind="stable")[:, :k]
    dist = np.sqrt(np.take_along_axis(exact, order, 1) / query.width)
    return dist, np.take_along_axis(cand_i, order, 1)


# ---------------------------------------------------------------------------------------------
# Metrics (small functions that other code can reuse without building a report)
# ---------------------------------------------------------------------------------------------

def _row_keys(frame: pl.DataFrame, columns: list[str], schema: Schema) -> pl.Series:
    # Numbers as floats, categories as text: 1 and 1.0 (an int column read back as float) match.
    parts = [pl.Series(c, numbers(frame.get_column(c))) if is_numeric(schema, c) else category_text(frame.get_column(c))
             for c in columns]
    return pl.DataFrame(parts).hash_rows(seed=0)


def exact_copy_rate(train: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema) -> float:
    """Share of ``synthetic`` rows equal, on every learnable column, to some ``train`` row.

    Ids and PII are left out (they are regenerated, so they would hide copies). Compare with
    ``exact_copy_rate(train, holdout, schema)``: real data repeats itself too.
    """
    columns = learnable(schema, [train, synthetic])
    if synthetic.height == 0:
        return 0.0
    seen = _row_keys(train, columns, schema).unique()
    return float(_row_keys(synthetic, columns, schema).is_in(seen.implode()).mean())


def _equal_size(train: pl.DataFrame, holdout: pl.DataFrame, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    m = min(train.height, holdout.height)
    return train.sample(n=m, seed=seed), holdout.sample(n=m, seed=seed + 1)


def dcr_share(train: pl.DataFrame, holdout: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema, *,
              seed: int = 0) -> float:
    """Share of synthetic rows closer to a training row than to a holdout row (ties count half).

    The larger of ``train``/``holdout`` is sampled down to the smaller's size first, so a
    generator that learned nothing row-specific scores 0.5; one that copies scores near 1.
    """
    tr, ho = _equal_size(train, holdout, seed)
    space = DistanceSpace(schema, learnable(schema, [train, holdout, synthetic]))
    e_tr, e_ho, e_syn = space.encode(tr, ho, synthetic)
    d_tr, _ = nearest(e_syn, e_tr)
    d_ho, _ = nearest(e_syn, e_ho)
    return share_closer(d_tr[:, 0], d_ho[:, 0])


def share_closer(d_train: np.ndarray, d_holdout: np.ndarray) -> float:
    """Share of rows with ``d_train < d_holdout``, ties counting half."""
    tie = np.isclose(d_train, d_holdout, rtol=0, atol=1e-9)
    return float(np.mean(np.where(tie, 0.5, (d_train < d_holdout).astype(float))))


def roc_points(member_scores: np.ndarray, nonmember_scores: np.ndarray, *, points: int = 101) -> dict:
    """AUC and an ROC curve sampled at ``points`` false-positive rates (aggregates only)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    y = np.r_[np.ones(len(member_scores)), np.zeros(len(nonmember_scores))]
    s = np.r_[member_scores, nonmember_scores]
    auc = float(roc_auc_score(y, s))
    fpr, tpr, _ = roc_curve(y, s)
    grid = np.linspace(0, 1, points)
    return {"auc": auc, "fpr": grid.tolist(), "tpr": np.interp(grid, fpr, tpr).tolist(),
            "_fpr": fpr, "_tpr": tpr}


def tpr_at_fpr(curve: dict, fpr: float) -> float:
    """TPR at a false-positive rate, interpolating across ties (random tie-breaking)."""
    return float(np.interp(fpr, curve["_fpr"], curve["_tpr"]))


def membership_inference(train: pl.DataFrame, holdout: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema,
                         *, max_targets: int = 5000, seed: int = 0, low_fpr: float = 0.01) -> dict:
    """Distance-based membership inference: AUC and TPR at ``low_fpr`` (0.5 / ``low_fpr`` = no signal).

    Members are training rows, non-members holdout rows (equal numbers, at most ``max_targets``
    each); a record's score is minus its distance to the closest synthetic row.
    """
    m = min(train.height, holdout.height, max_targets)
    members, nonmembers = train.sample(n=m, seed=seed + 2), holdout.sample(n=m, seed=seed + 3)
    space = DistanceSpace(schema, learnable(schema, [train, holdout, synthetic]))
    e_syn, e_mem, e_non = space.encode(train, synthetic, members, nonmembers)[1:]
    d_mem, _ = nearest(e_mem, e_syn)
    d_non, _ = nearest(e_non, e_syn)
    curve = roc_points(-d_mem[:, 0], -d_non[:, 0])
    return {"auc": curve["auc"], "tpr_at_low_fpr": tpr_at_fpr(curve, low_fpr), "low_fpr": low_fpr,
            "targets": m, "curve": {"fpr": curve["fpr"], "tpr": curve["tpr"]}}


def attribute_inference(train: pl.DataFrame, holdout: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema,
                        column: str, *, max_targets: int = 5000, seed: int = 0, tolerance: float = 0.05) -> dict:
    """Nearest-synthetic-row attack on ``column``: success on training vs holdout records.

    The attacker knows every other learnable column of a target record and guesses the value
    of ``column`` from the closest synthetic row (a number counts as guessed within
    ``tolerance`` × the training range). ``advantage`` = (train − control) / (1 − control):
    0 = the synthetic data tells no more about training records than about unseen ones.
    """
    m = min(train.height, holdout.height, max_targets)
    targets, control = train.sample(n=m, seed=seed + 4), holdout.sample(n=m, seed=seed + 5)
    columns = learnable(schema, [train, holdout, synthetic])
    space = DistanceSpace(schema, columns)
    # The training rows come first: they set the numeric ranges of the distance.
    _, e_syn, e_t, e_c = space.encode(train, synthetic, targets, control, exclude=(column,))
    _, i_t = nearest(e_t, e_syn)
    _, i_c = nearest(e_c, e_syn)
    truth_t, truth_c, guess_t, guess_c = _guess_values(column, schema, train, synthetic, targets, control,
                                                       i_t[:, 0], i_c[:, 0])
    if is_numeric(schema, column):
        ref = truth_t[~np.isnan(truth_t)]
        span = float(np.ptp(ref)) if ref.size else 1.0
        span = span or 1.0

        def hit(truth, guess):
            both_null = np.isnan(truth) & np.isnan(guess)
            return both_null | (np.abs(truth - guess) <= tolerance * span)
    else:
        def hit(truth, guess):
            return truth == guess
    s_train = float(np.mean(hit(truth_t, guess_t)))
    s_control = float(np.mean(hit(truth_c, guess_c)))
    advantage = (s_train - s_control) / (1 - s_control) if s_control < 1 else 0.0
    return {"column": column, "success_train": s_train, "success_control": s_control,
            "advantage": float(advantage), "targets": m}


def _guess_values(column, schema, train, synthetic, targets, control, i_t, i_c):
    if is_numeric(schema, column):
        syn = numbers(synthetic.get_column(column))
        return numbers(targets.get_column(column)), numbers(control.get_column(column)), syn[i_t], syn[i_c]
    (c_syn, c_t, c_c), _ = category_codes(synthetic.get_column(column), targets.get_column(column),
                                          control.get_column(column))
    return c_t, c_c, c_syn[i_t], c_syn[i_c]


def nndr(d: np.ndarray) -> np.ndarray:
    """Nearest / second-nearest distance; 0 where both are 0 (a row equal to two real rows)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = d[:, 0] / d[:, 1]
    return np.where(d[:, 1] > 0, ratio, 0.0)
