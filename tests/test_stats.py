"""Statistics of the benchmark: each function against scipy on the same numbers, against hand values,
or against Demšar's (2006) worked example; and the critical-difference diagram."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.lines import Line2D
from scipy import stats

from actlab.analysis.stats import (
    bootstrap_ci,
    cliques,
    friedman,
    holm,
    nemenyi_cd,
    paired_test,
    rank_ci,
    variance_split,
)
from actlab.core.errors import ActlabInputError
from actlab.report.cd_diagram import cd_diagram
from actlab.report.figures import plt, png

# Demšar (2006), Table 6: AUC of C4.5 and three variants on 14 UCI data sets (rows). The same numbers
# are embedded, independently, in several public test suites of Friedman/Nemenyi implementations.
NAMES = ["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"]
AUC = np.array([
    [0.763, 0.768, 0.771, 0.798], [0.599, 0.591, 0.590, 0.569], [0.954, 0.971, 0.968, 0.967],
    [0.628, 0.661, 0.654, 0.657], [0.882, 0.888, 0.886, 0.898], [0.936, 0.931, 0.916, 0.931],
    [0.661, 0.668, 0.609, 0.685], [0.583, 0.583, 0.563, 0.625], [0.775, 0.838, 0.866, 0.875],
    [1.000, 1.000, 1.000, 1.000], [0.940, 0.962, 0.965, 0.962], [0.619, 0.666, 0.614, 0.669],
    [0.972, 0.981, 0.975, 0.975], [0.957, 0.978, 0.946, 0.970],
])


def paper_table() -> np.ndarray:
    """Table 6 as the paper ranked it: the three-decimal 'voting' row ties C4.5+cf with C4.5+m+cf,
    but the paper's ranks (from unrounded AUCs) put C4.5+cf 2nd and C4.5+m+cf 3rd there; only that
    makes its average ranks 3.143, 2.000, 2.893, 1.964."""
    table = AUC.copy()
    table[12, 3] = 0.9749
    return table


# --- Friedman, Iman–Davenport, Nemenyi: Demšar's example and scipy ---------------------------------

def test_friedman_reproduces_demsar_worked_example() -> None:
    res = friedman(paper_table(), ties_correction=False)  # the paper's χ²_F has no tie correction
    assert np.allclose(res.average_ranks, [3.143, 2.000, 2.893, 1.964], atol=5e-4)
    assert res.statistic == pytest.approx(9.28, abs=5e-3)
    assert res.iman_davenport_f == pytest.approx(3.69, abs=5e-3)
    assert (res.n_blocks, res.k) == (14, 4)
    assert nemenyi_cd(4, 14, 0.05) == pytest.approx(1.25, abs=5e-3)
    assert nemenyi_cd(4, 14, 0.10) == pytest.approx(1.12, abs=5e-3)
    # F_F is compared with F(3, 39): critical value 2.85 at α = 0.05 in the paper, so H0 is rejected
    assert stats.f.ppf(0.95, 3, 39) == pytest.approx(2.85, abs=5e-3) and res.iman_davenport_p < 0.05


@pytest.mark.parametrize("table", ["demsar", "paper", "random3", "random6", "integers"])
def test_friedman_statistic_equals_scipy(table: str) -> None:
    rng = np.random.default_rng(3)
    scores = {"demsar": AUC, "paper": paper_table(), "random3": rng.normal(size=(9, 3)),
              "random6": rng.normal(size=(20, 6)), "integers": rng.integers(0, 3, size=(12, 5))}[table]
    res = friedman(scores)
    ref = stats.friedmanchisquare(*np.asarray(scores, dtype=float).T)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    n, k = res.n_blocks, res.k  # Iman–Davenport from scipy's χ², by its formula
    f = (n - 1) * ref.statistic / (n * (k - 1) - ref.statistic)
    assert res.iman_davenport_f == pytest.approx(f, rel=1e-10)
    assert res.iman_davenport_p == pytest.approx(stats.f.sf(f, k - 1, (k - 1) * (n - 1)), rel=1e-9)


def test_friedman_by_hand() -> None:
    # k = 2 without ties: χ² = (wins − losses)²/N; method 0 wins 7 of 10 blocks → 16/10
    a = np.arange(10.0)
    b = np.where(np.arange(10) < 7, a - 1, a + 1)
    res = friedman(np.column_stack([a, b]))
    assert res.statistic == pytest.approx(1.6) and res.average_ranks == pytest.approx([1.3, 1.7])
    low = friedman(np.column_stack([a, b]), higher_is_better=False)  # rank 1 = lowest score
    assert low.average_ranks == pytest.approx([1.7, 1.3])
    tied = friedman(np.ones((5, 3)))
    assert (tied.statistic, tied.p_value) == (0.0, 1.0) and tied.average_ranks == pytest.approx([2, 2, 2])
    same = friedman(np.tile([3.0, 2.0, 1.0], (6, 1)))  # perfect agreement: χ² = N(k − 1), F = ∞
    assert same.statistic == pytest.approx(12.0) and same.iman_davenport_f == np.inf
    assert same.iman_davenport_p == 0.0 and same.average_ranks == pytest.approx([1, 2, 3])


@pytest.mark.parametrize(("k", "q05", "q10"), [(2, 1.960, 1.645), (3, 2.343, 2.052), (4, 2.569, 2.291),
                                               (5, 2.728, 2.459), (6, 2.850, 2.589)])
def test_nemenyi_q_matches_demsar_table_5(k: int, q05: float, q10: float) -> None:
    for alpha, q in ((0.05, q05), (0.10, q10)):
        cd = nemenyi_cd(k, 30, alpha)
        assert cd / np.sqrt(k * (k + 1) / (6 * 30)) == pytest.approx(q, abs=1e-3)


def test_cliques_of_demsar_example() -> None:
    ranks = friedman(paper_table()).average_ranks
    # α = 0.05: even the best and the worst differ by less than CD (1.179 < 1.25): one group
    assert cliques(NAMES, ranks, nemenyi_cd(4, 14, 0.05)) == [["C4.5+m+cf", "C4.5+m", "C4.5+cf", "C4.5"]]
    # α = 0.10 (CD = 1.12): C4.5 is worse than C4.5+m and C4.5+m+cf; C4.5+cf sits in both groups
    assert cliques(NAMES, ranks, nemenyi_cd(4, 14, 0.10)) == [["C4.5+m+cf", "C4.5+m", "C4.5+cf"],
                                                              ["C4.5+cf", "C4.5"]]


def test_cliques_by_hand() -> None:
    names = ["a", "b", "c", "d", "e"]
    assert cliques(names, [1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == []  # all differ
    assert cliques(names, [1.0, 1.5, 2.2, 4.0, 4.1], 1.0) == [["a", "b"], ["b", "c"], ["d", "e"]]
    assert cliques(names, [5.0, 4.0, 3.0, 2.0, 1.0], 2.5) == [["e", "d", "c"], ["d", "c", "b"], ["c", "b", "a"]]
    assert cliques(names, [1.0, 2.0, 2.0, 3.0, 5.0], 1.0) == [["b", "c"]]  # range < cd, strictly


# --- Wilcoxon signed-rank and the rank-biserial correlation ------------------------------------------

def test_paired_test_on_demsar_example() -> None:
    # Demšar §3.1.3, C4.5+m vs C4.5: R+ = 93, R− = 12 (zero differences split). Scaled to integers so
    # that equal differences (0.768 − 0.763, 0.936 − 0.931) are equal in floating point too.
    m, c45 = np.round(AUC[:, 1] * 1000), np.round(AUC[:, 0] * 1000)
    res = paired_test(m, c45)
    assert (res.n, res.ties, res.statistic) == (14, 2, 12.0)
    assert res.effect_size == pytest.approx((93 - 12) / 105)
    assert res.p_value == pytest.approx(stats.wilcoxon(m - c45, zero_method="zsplit").pvalue)
    assert res.p_value < 0.05  # T = 12 is below the critical value 21 for N = 14 (paper)
    assert res.mean_diff == pytest.approx(15.5) and res.median_diff == pytest.approx(8.0)


def test_rank_biserial_by_hand() -> None:
    # d = [1, 2, −3, 4]: R+ = 1 + 2 + 4 = 7, R− = 3 → r = 4/10
    assert paired_test([1.0, 2.0, 0.0, 4.0], [0.0, 0.0, 3.0, 0.0]).effect_size == pytest.approx(0.4)
    # d = [0, 2, −3, 5]: the zero's rank 1 is split: R+ = 2 + 4 + ½ = 6.5, R− = 3 + ½ = 3.5 → r = 0.3
    res = paired_test([0.0, 2.0, -3.0, 5.0], [0.0, 0.0, 0.0, 0.0])
    assert res.effect_size == pytest.approx(0.3) and res.ties == 1 and res.statistic == 3.5
    assert paired_test([0.0, 0.0, 0.0, 0.0], [0.0, 2.0, -3.0, 5.0]).effect_size == pytest.approx(-0.3)


@pytest.mark.parametrize("case", ["exact", "zeros", "large"])
def test_paired_test_equals_scipy(case: str) -> None:
    rng = np.random.default_rng(7)
    n = {"exact": 12, "zeros": 20, "large": 80}[case]
    a, b = rng.normal(size=n), rng.normal(0.4, size=n)
    if case == "zeros":
        b[:4] = a[:4]
    res = paired_test(a, b)
    ref = stats.wilcoxon(a, b, zero_method="zsplit")
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert res.statistic == pytest.approx(ref.statistic)


def test_all_differences_zero() -> None:
    res = paired_test([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert (res.p_value, res.effect_size, res.ties, res.mean_diff) == (1.0, 0.0, 3, 0.0)


# --- Holm ------------------------------------------------------------------------------------------

def test_holm_by_hand() -> None:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # sorted: 6·0.001, 5·0.013, max(4·0.013, ·), 3·0.04, 2·0.2, 1·0.5 (statsmodels' "holm" agrees)
    assert holm([0.2, 0.001, 0.5, 0.013, 0.013, 0.04]) == pytest.approx([0.4, 0.006, 0.5, 0.065, 0.065, 0.12])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0]) and holm([0.3]) == pytest.approx([0.3])
    p = np.random.default_rng(0).uniform(size=30)
    adj = holm(p)
    assert np.all(adj >= p) and np.all(adj <= 1) and np.all(np.diff(adj[np.argsort(p)]) >= 0)


# --- bootstrap intervals -----------------------------------------------------------------------------

@pytest.mark.parametrize(("stat", "method"), [("mean", "BCa"), ("median", "BCa"), ("mean", "percentile")])
def test_bootstrap_ci_equals_scipy(stat: str, method: str) -> None:
    x = np.random.default_rng(1).lognormal(size=25)
    got = bootstrap_ci(x, stat=stat, level=0.9, n_resamples=3000, seed=5, method=method)  # type: ignore[arg-type]
    ref = stats.bootstrap((x,), np.mean if stat == "mean" else np.median, n_resamples=3000,
                          confidence_level=0.9, method=method, rng=np.random.default_rng(5))
    assert got == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high), rel=1e-12)


def test_bootstrap_ci_of_the_mean_is_near_the_t_interval() -> None:
    x = np.random.default_rng(2).normal(3.0, 2.0, size=400)
    low, high = bootstrap_ci(x)
    t_low, t_high = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
    assert low == pytest.approx(t_low, abs=0.03) and high == pytest.approx(t_high, abs=0.03)


def test_bootstrap_ci_degenerate_cases() -> None:
    assert bootstrap_ci([0.7]) == (0.7, 0.7) and bootstrap_ci([2.0, 2.0, 2.0], stat="median") == (2.0, 2.0)
    low, high = bootstrap_ci([1.0, 1.0, 1.0, 2.0], stat="median")  # BCa undefined: percentile instead
    assert (low, high) == (1.0, 2.0)


def test_rank_ci() -> None:
    rng = np.random.default_rng(4)
    scores = rng.normal(size=(40, 4)) + np.array([0.0, 0.5, 1.0, 1.5])
    low, high = rank_ci(scores, n_resamples=20_000, seed=1)
    avg = friedman(scores).average_ranks
    assert np.all(low <= avg) and np.all(avg <= high) and np.all(np.diff(avg) < 0)
    ranks = stats.rankdata(-scores, axis=1)  # scipy's bootstrap of one method's mean rank, over blocks
    step = 1 / 40 + 1e-9  # mean ranks over 40 blocks lie on a grid of 1/40: allow one step
    for j in range(4):
        ref = stats.bootstrap((ranks[:, j],), np.mean, method="percentile", n_resamples=20_000,
                              rng=np.random.default_rng(j))
        assert low[j] == pytest.approx(ref.confidence_interval.low, abs=step)
        assert high[j] == pytest.approx(ref.confidence_interval.high, abs=step)
    # two blocks ranked 1,2 and 2,1: a resample's mean rank of method 0 is 1, 1.5, 2 with p = ¼, ½, ¼,
    # so its 20 % and 80 % quantiles (level 0.6) are 1 and 2
    two = rank_ci([[1.0, 0.0], [0.0, 1.0]], level=0.6, n_resamples=4000)
    assert two[0] == pytest.approx([1.0, 1.0]) and two[1] == pytest.approx([2.0, 2.0])
    same = rank_ci(np.tile([1.0, 3.0, 2.0], (5, 1)))
    assert same[0] == pytest.approx([3, 1, 2]) and same[1] == pytest.approx([3, 1, 2])
    assert np.array_equal(rank_ci(scores, seed=3)[0], rank_ci(scores, seed=3)[0])


# --- variance split ----------------------------------------------------------------------------------

def table(cells: dict[tuple[str, str], list[float]]) -> list[dict[str, object]]:
    return [{"act": a, "data": d, "seed": i, "loss": v} for (a, d), vs in cells.items() for i, v in enumerate(vs)]


def test_variance_split_balanced_by_hand() -> None:
    # grand mean 5; act means 4, 6 → SS = 4·1 + 4·1 = 8; data means 3, 7 → SS = 4·4 + 4·4 = 32;
    # SS_total = 16+4+0+4+4+0+4+16 = 48; the rest (within cells) 8
    rows = table({("relu", "moons"): [1, 3], ("relu", "spiral"): [5, 7],
                  ("tanh", "moons"): [3, 5], ("tanh", "spiral"): [7, 9]})
    for order in (["act", "data"], ["data", "act"]):
        split = variance_split(rows, order, "loss")
        assert split == pytest.approx({"act": 8 / 48, "data": 32 / 48, "residual": 8 / 48})


def test_variance_split_one_factor_explains_everything() -> None:
    rows = table({(a, d): [float(a == "tanh") * 3.0] * 3 for a in ("relu", "tanh") for d in ("x", "y", "z")})
    split = variance_split(rows, ["data", "seed", "act"], "loss")
    assert split == pytest.approx({"data": 0.0, "seed": 0.0, "act": 1.0, "residual": 0.0}, abs=1e-12)


def test_variance_split_unbalanced_is_sequential() -> None:
    rows = table({("relu", "moons"): [3, 4], ("relu", "circles"): [7], ("relu", "spiral"): [9],
                  ("tanh", "moons"): [1], ("tanh", "circles"): [6, 5], ("tanh", "spiral"): [8, 12]})
    # golden: statsmodels 0.15, anova_lm(ols("loss ~ C(act) + C(data)"), typ=1), and the reverse order
    assert variance_split(rows, ["act", "data"], "loss") == pytest.approx(
        {"act": 0.0105625, "data": 0.8394375, "residual": 0.15})
    assert variance_split(rows, ["data", "act"], "loss") == pytest.approx(
        {"data": 0.8275, "act": 0.0225, "residual": 0.15})
    # the first factor's share is one-way η², which scipy's F gives as F(g−1)/(F(g−1) + N − g)
    f = stats.f_oneway(*[[r["loss"] for r in rows if r["data"] == d] for d in ("moons", "circles", "spiral")])
    assert variance_split(rows, ["data"], "loss")["data"] == pytest.approx(
        f.statistic * 2 / (f.statistic * 2 + len(rows) - 3))


# --- bad input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: paired_test([1.0, 2.0], [1.0]),
    lambda: paired_test([1.0, np.nan], [1.0, 2.0]),
    lambda: bootstrap_ci([1.0, np.nan, 2.0]),
    lambda: bootstrap_ci([]),
    lambda: bootstrap_ci([1.0, 2.0], stat="mode"),  # type: ignore[arg-type]
    lambda: bootstrap_ci([1.0, 2.0], level=1.5),
    lambda: holm([0.1, np.nan]),
    lambda: holm([0.1, 1.2]),
    lambda: friedman([[1.0, 2.0, 3.0]]),
    lambda: friedman([[1.0], [2.0]]),
    lambda: friedman([[1.0, np.nan], [2.0, 1.0]]),
    lambda: rank_ci([[1.0, 2.0, 3.0]]),
    lambda: nemenyi_cd(4, 1),
    lambda: nemenyi_cd(1, 10),
    lambda: nemenyi_cd(4, 10, alpha=0.0),
    lambda: cliques(["a", "b"], [1.0], 1.0),
    lambda: cliques(["a", "b"], [1.0, 2.0], 0.0),
    lambda: variance_split([{"a": "x", "v": 1.0}, {"a": "y"}], ["a"], "v"),
    lambda: variance_split([{"a": "x", "v": 1.0}, {"a": "y", "v": np.nan}], ["a"], "v"),
    lambda: variance_split([{"a": "x", "v": 1.0}, {"a": "y", "v": 1.0}], ["a"], "v"),
    lambda: cd_diagram(["a", "b"], [1.0], 1.0),
    lambda: cd_diagram(["a", "b"], [1.0, 2.5], 1.0),
])
def test_bad_input_raises(call: object) -> None:
    with pytest.raises(ActlabInputError):
        call()  # type: ignore[operator]


# --- the critical-difference diagram ------------------------------------------------------------------

def bars(fig: plt.Figure) -> list[Line2D]:
    return [line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == "clique"]


@pytest.mark.parametrize("k", range(2, 14))
def test_cd_diagram_renders(k: int) -> None:
    ranks = np.linspace(1.0, k, k) * 0.6 + 0.4 * (k + 1) / 2  # spread inside [1, k]
    cd = nemenyi_cd(k, 20)
    fig = cd_diagram([f"act{i}" for i in range(k)], ranks, cd, title="t")
    assert len(bars(fig)) == len(cliques([f"act{i}" for i in range(k)], ranks, cd))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert f"CD = {cd:.2f}" in texts and "average rank" in texts
    assert png(fig).startswith("data:image/png;base64,")


def test_cd_diagram_draws_one_bar_per_clique() -> None:
    ranks = friedman(paper_table()).average_ranks
    two = cd_diagram(NAMES, ranks, nemenyi_cd(4, 14, 0.10))
    spans = sorted((float(np.min(b.get_xdata())), float(np.max(b.get_xdata()))) for b in bars(two))
    assert len(spans) == 2  # C4.5+m+cf..C4.5+cf and C4.5+cf..C4.5
    assert spans[0] == pytest.approx((1.964 - 0.03, 2.893 + 0.03), abs=1e-3)
    assert spans[1] == pytest.approx((2.893 - 0.03, 3.143 + 0.03), abs=1e-3)
    assert len(bars(cd_diagram(NAMES, ranks, nemenyi_cd(4, 14, 0.05)))) == 1
    assert len(bars(cd_diagram(NAMES, [1.0, 2.0, 3.0, 4.0], 0.5))) == 0
    labels = {t.get_text(): t.get_position()[0] for t in two.axes[0].texts}
    assert labels["C4.5+m+cf (1.96)"] < labels["C4.5 (3.14)"]  # best on the left
    plt.close("all")
