"""Statistics for comparing activations over many blocks (dataset × depth × ...): how sure is a ranking?

scipy does the tests it has (bootstrap, Wilcoxon, Friedman's χ² and the distributions); written here is
only what no maintained library provides: Holm's step-down, Nemenyi's critical difference and its
cliques, the bootstrap of average ranks, and the split of a metric's variance over the study's factors.
Conventions: rank 1 = best; ties get average ranks; `scores` tables are (n_blocks, k) with one row per
block (e.g. one dataset at one depth) and one column per method. See docs/statistics.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from actlab.core.errors import ActlabInputError


class StatsInputError(ActlabInputError, ValueError):
    """Numbers that a statistic cannot be computed on (NaN, mismatched lengths, too few blocks)."""


def _finite(values: object, what: str, ndim: int) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != ndim:
        raise StatsInputError(f"{what} must be a {ndim}-D array of numbers, got shape {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise StatsInputError(f"{what} contains NaN or infinite values; only finite numbers are allowed.")
    return x


def _level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise StatsInputError(f"level must lie strictly between 0 and 1, got {level}.")


def bootstrap_ci(values: Sequence[float] | np.ndarray, *, stat: Literal["mean", "median"] = "mean",
                 level: float = 0.95, n_resamples: int = 10_000, seed: int = 0,
                 method: Literal["BCa", "percentile"] = "BCa") -> tuple[float, float]:
    """Two-sided bootstrap confidence interval of the mean or median (`scipy.stats.bootstrap`).

    BCa (bias-corrected and accelerated, Efron 1987) by default; where BCa is undefined (its
    jackknife or bootstrap distribution is degenerate, e.g. a median over heavily tied values)
    the percentile interval is returned instead. One value, or all values equal, gives (v, v).
    """
    x = _finite(values, "values", 1)
    if x.size == 0:
        raise StatsInputError("values is empty; give at least one number.")
    if stat not in ("mean", "median") or method not in ("BCa", "percentile"):
        raise StatsInputError(f"stat must be 'mean' or 'median' and method 'BCa' or 'percentile', "
                              f"got {stat!r}, {method!r}.")
    _level(level)
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    fn = np.mean if stat == "mean" else np.median
    for m in (method, "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)  # undefined BCa: NaN, handled below
            warnings.simplefilter("ignore", RuntimeWarning)
            res = stats.bootstrap((x,), fn, n_resamples=n_resamples, confidence_level=level, method=m,
                                  rng=np.random.default_rng(seed))
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if np.isfinite(low) and np.isfinite(high):
            break
    return low, high


@dataclass(frozen=True)
class PairedTest:
    """Wilcoxon signed-rank test of a − b. `statistic` is scipy's min(R+, R−); `effect_size` is the
    matched-pairs rank-biserial r = (R+ − R−)/(R+ + R−) in [−1, 1], positive when a tends to exceed b;
    `ties` counts the pairs with a − b = 0."""

    n: int
    mean_diff: float
    median_diff: float
    statistic: float
    p_value: float
    effect_size: float
    ties: int


def paired_test(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> PairedTest:
    """Two-sided Wilcoxon signed-rank test on d = a − b (`scipy.stats.wilcoxon`, method "auto": exact
    for n ≤ 50 without ties or zeros; with them, exhaustive permutation for n ≤ 13, else normal).

    Zero differences use zero_method="zsplit" (Demšar 2006, §3.1.3): they are ranked with the others
    and their ranks split evenly between R+ and R−. Ties are common here (two activations that both
    reach 100 % accuracy), and dropping them ("wilcox") would overstate the evidence of the rest.
    R± = Σ rank(|dᵢ|) over dᵢ ≷ 0, plus half the ranks of the zeros; r = (R+ − R−)/(R+ + R−)
    (Kerby 2014). All differences zero: p = 1, r = 0.
    """
    x, y = _finite(a, "a", 1), _finite(b, "b", 1)
    if x.size != y.size or x.size == 0:
        raise StatsInputError(f"a and b must be paired: equal, non-zero lengths, got {x.size} and {y.size}.")
    d = x - y
    ranks = stats.rankdata(np.abs(d))
    zero = d == 0
    r_plus = ranks[d > 0].sum() + 0.5 * ranks[zero].sum()
    r_minus = ranks[d < 0].sum() + 0.5 * ranks[zero].sum()
    if np.all(zero):
        p_value = 1.0
    else:
        p_value = float(stats.wilcoxon(d, zero_method="zsplit", alternative="two-sided").pvalue)
    return PairedTest(n=int(d.size), mean_diff=float(d.mean()), median_diff=float(np.median(d)),
                      statistic=float(min(r_plus, r_minus)), p_value=p_value,
                      effect_size=float((r_plus - r_minus) / (r_plus + r_minus)), ties=int(zero.sum()))


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (step-down, controls the family-wise error rate).

    With p₍₁₎ ≤ … ≤ p₍ₘ₎ sorted: p̃₍ᵢ₎ = min(1, max_{j ≤ i} (m − j + 1)·p₍ⱼ₎), returned in the
    original order. Reject hypothesis i at level α when p̃ᵢ ≤ α (Holm 1979).
    """
    p = _finite(p_values, "p_values", 1)
    if np.any((p < 0) | (p > 1)):
        raise StatsInputError("p_values must lie in [0, 1].")
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


@dataclass(frozen=True)
class FriedmanResult:
    """Friedman's test that k methods rank alike over n_blocks blocks, and its F form."""

    statistic: float
    p_value: float
    iman_davenport_f: float
    iman_davenport_p: float
    average_ranks: np.ndarray
    n_blocks: int
    k: int


def _table(scores: object) -> np.ndarray:
    x = _finite(scores, "scores", 2)
    if x.shape[0] < 2 or x.shape[1] < 2:
        raise StatsInputError(f"scores must be (n_blocks, k) with at least 2 blocks and 2 methods, "
                              f"got shape {x.shape}.")
    return x


def block_ranks(scores: np.ndarray | Sequence[Sequence[float]], *, higher_is_better: bool = True) -> np.ndarray:
    """Ranks within each block (row): 1 = best, ties get the average of the ranks they span."""
    x = _table(scores)
    return stats.rankdata(-x if higher_is_better else x, axis=1)


def friedman(scores: np.ndarray | Sequence[Sequence[float]], *, higher_is_better: bool = True,
             ties_correction: bool = True) -> FriedmanResult:
    """Friedman's test on an (n_blocks, k) table (Friedman 1937; Demšar 2006, §3.2.2).

    With Rⱼ the average rank of method j over N blocks,
        χ²_F = 12N/(k(k+1)) · [Σⱼ Rⱼ² − k(k+1)²/4],  divided by C = 1 − Σ(t³ − t)/(N·k(k² − 1))
    over the tie groups t of every block when `ties_correction` (as scipy.stats.friedmanchisquare,
    which it equals for k ≥ 3); χ²_F ~ χ²(k − 1). Iman & Davenport (1980): F = (N−1)χ²/(N(k−1) − χ²)
    ~ F(k − 1, (k − 1)(N − 1)), less conservative. Every block fully tied: χ² = 0, p = 1; every block
    in the same strict order: F = ∞, p = 0.
    """
    ranks = block_ranks(scores, higher_is_better=higher_is_better)
    n, k = ranks.shape
    avg = ranks.mean(axis=0)
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(avg**2) - k * (k + 1) ** 2 / 4)
    if ties_correction:
        tie_sum = sum(float(np.sum(c**3 - c)) for c in (np.unique(row, return_counts=True)[1] for row in ranks))
        c = 1 - tie_sum / (n * k * (k * k - 1))
        chi2 = chi2 / c if c > 0 else 0.0
    chi2 = max(float(chi2), 0.0)
    denom = n * (k - 1) - chi2
    f = (n - 1) * chi2 / denom if denom > 1e-12 * n * k else np.inf
    return FriedmanResult(statistic=chi2, p_value=float(stats.chi2.sf(chi2, k - 1)),
                          iman_davenport_f=float(f), iman_davenport_p=float(stats.f.sf(f, k - 1, (k - 1) * (n - 1))),
                          average_ranks=avg, n_blocks=n, k=k)


def rank_ci(scores: np.ndarray | Sequence[Sequence[float]], *, higher_is_better: bool = True,
            level: float = 0.95, n_resamples: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of each method's average rank, resampling whole blocks (rows)
    with replacement: ranks are taken within blocks once, then each resample is a multinomial count
    of the N blocks and its average ranks are count-weighted means. Returns (low (k,), high (k,))."""
    ranks = block_ranks(scores, higher_is_better=higher_is_better)
    _level(level)
    if n_resamples < 1:
        raise StatsInputError(f"n_resamples must be at least 1, got {n_resamples}.")
    n = ranks.shape[0]
    counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1 / n), size=n_resamples)
    boot = counts @ ranks / n
    low, high = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return low, high


def nemenyi_cd(k: int, n_blocks: int, alpha: float = 0.05) -> float:
    """Nemenyi's critical difference of average ranks (Nemenyi 1963; Demšar 2006, eq. 5):
    CD = q_α·√(k(k+1)/(6N)), q_α = studentized range quantile q(1−α; k, ∞)/√2. Two methods whose
    average ranks differ by at least CD differ at level α (all pairs, family-wise)."""
    if int(k) != k or k < 2 or int(n_blocks) != n_blocks or n_blocks < 2:
        raise StatsInputError(f"nemenyi_cd needs k ≥ 2 methods and n_blocks ≥ 2 blocks (integers), "
                              f"got k={k}, n_blocks={n_blocks}.")
    if not 0.0 < alpha < 1.0:
        raise StatsInputError(f"alpha must lie strictly between 0 and 1, got {alpha}.")
    q = float(stats.studentized_range.ppf(1 - alpha, k, np.inf)) / np.sqrt(2)
    return q * float(np.sqrt(k * (k + 1) / (6 * n_blocks)))


def cliques(names: Sequence[str], average_ranks: Sequence[float] | np.ndarray, cd: float) -> list[list[str]]:
    """Maximal groups of ≥ 2 methods whose average ranks span less than `cd` (not significantly
    different: the CD diagram's bars), best group first, names in rank order. A method that differs
    from every other gets no group. Groups may overlap (A~B, B~C, A≁C gives [A, B], [B, C])."""
    ranks = _finite(average_ranks, "average_ranks", 1)
    if len(names) != ranks.size:
        raise StatsInputError(f"names and average_ranks must have equal lengths, got {len(names)} and {ranks.size}.")
    if not cd > 0:
        raise StatsInputError(f"cd must be positive, got {cd}.")
    order = np.argsort(ranks, kind="stable")
    r = ranks[order]
    groups: list[list[str]] = []
    last_end = -1
    for i in range(r.size):
        end = int(np.searchsorted(r, r[i] + cd, side="left")) - 1  # last j with r[j] − r[i] < cd
        if end > i and end > last_end:
            groups.append([names[j] for j in order[i:end + 1]])
            last_end = end
    return groups


def variance_split(rows: Sequence[Mapping[str, object]], factors: Sequence[str], value: str) -> dict[str, float]:
    """Share of the total sum of squares of `value` explained by each factor's main effect (η²).

    Sequential (type I) sums of squares in the given factor order: a least-squares fit of `value` on
    dummy-coded factors, adding one factor at a time; SS_f = RSS(before f) − RSS(after f), share =
    SS_f / SS_total, SS_total = Σ(y − ȳ)². "residual" = RSS of the full main-effects model / SS_total
    (interactions and noise). Shares sum to 1. In a balanced design the order does not matter and
    SS_f = Σ_levels n_l(ȳ_l − ȳ)², the classical main-effect ANOVA; in an unbalanced one a factor
    listed earlier is credited with what it shares with later ones.
    """
    if len(rows) < 2 or not factors or len(set(factors)) != len(factors) or value in factors:
        raise StatsInputError("variance_split needs at least 2 rows and distinct factor names that "
                              "do not include the value column.")
    missing = [key for key in (*factors, value) if any(key not in row for row in rows)]
    if missing:
        raise StatsInputError(f"every row must have the keys {[*factors, value]}; missing {missing[0]!r}.")
    y = _finite([row[value] for row in rows], f"column {value!r}", 1)
    total = float(np.sum((y - y.mean()) ** 2))
    if total <= 0:
        raise StatsInputError(f"column {value!r} is constant: there is no variance to split.")
    design = np.ones((y.size, 1))
    rss = total
    shares: dict[str, float] = {}
    for factor in factors:
        design = np.hstack([design, _dummies([row[factor] for row in rows])])  # type: ignore[misc]
        beta = np.linalg.lstsq(design, y, rcond=None)[0]
        new_rss = float(np.sum((y - design @ beta) ** 2))
        shares[factor] = max(rss - new_rss, 0.0) / total
        rss = min(new_rss, rss)
    shares["residual"] = rss / total
    return shares


def _dummies(levels: Sequence[Hashable]) -> np.ndarray:
    """Treatment coding: one 0/1 column per level but the first seen."""
    index = {level: i for i, level in enumerate(dict.fromkeys(levels))}
    codes = np.array([index[level] for level in levels])
    return (codes[:, None] == np.arange(1, len(index))[None, :]).astype(float)
