"""The catalog articles' (001, 002) claims about training, checked on real data by the benchmark study:
paired over seeds, test accuracy at the learning rate chosen on validation, Wilcoxon signed-rank with
Holm's correction against relu per dataset and setting. Each check reads only the study's results
(`Evidence.results("benchmark")`, what `actlab.studies.benchmark.results.results` arranged)."""

from __future__ import annotations

from collections.abc import Callable

from actlab.studies.benchmark.results import ALPHA, STUDY, Comparison, Results
from actlab.studies.claims import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_RUN_HERE,
    REPRODUCED,
    Claim,
    Evidence,
    Measured,
)

SETUP = ("benchmark study as run (actlab run benchmark): MLPs on real data (on MNIST-1D also the MNIST-1D paper's "
         "CNN and GRU where run), test accuracy at the learning rate "
         "chosen on validation, paired over seeds against relu (Wilcoxon, Holm); the articles state no setup")


def model_of(setting: tuple) -> str:
    """The cell's model: 'mlp', or the MNIST-1D paper's 'cnn' / 'gru' (the setting's 'model=…' part)."""
    found = [v.split("=", 1)[1] for v in setting[4:] if isinstance(v, str) and v.startswith("model=")]
    return found[0] if found and found[0] != "None" else "mlp"


def _cells(ev: Evidence, act: str, deepest: bool) -> tuple[list[Comparison], int] | None:
    """`act`'s comparisons with relu (per dataset × setting; if `deepest`, the MLPs' deepest depth and every
    CNN and GRU cell: the deep networks), and that depth; None when the store has no benchmark trials of `act`
    against relu."""
    r = ev.results(STUDY)
    if not isinstance(r, Results):
        return None
    f = r.frame
    if f.baseline != "relu" or act not in f.activations:
        return None
    depths = [s[0] for s in f.settings if model_of(s) == "mlp"]
    depth = max(depths) if depths else 0
    cs = [c for c in r.comparisons if c.activation == act and c.n >= 2
          and (not deepest or model_of(c.setting) != "mlp" or c.setting[0] == depth)]
    return (cs, depth) if cs else None


def _where(c: Comparison) -> str:
    model = model_of(c.setting)
    return f"{c.dataset} depth {c.setting[0]}" if model == "mlp" else f"{c.dataset} {model.upper()}"


def _describe(cs: list[Comparison]) -> str:
    return "; ".join(f"{_where(c)}: {c.activation} {c.mean:.3f} at lr {c.lr:g} vs relu "
                     f"{c.mean - c.diff:.3f} at lr {c.baseline_lr:g} (Δ {c.diff:+.3f}, Holm p = {c.p_holm:.2g}, "
                     f"n = {c.n})" for c in cs)


def _better(cs: list[Comparison]) -> int:
    return sum(c.p_holm < ALPHA and c.diff > 0 for c in cs)


def _worse(cs: list[Comparison]) -> int:
    return sum(c.p_holm < ALPHA and c.diff < 0 for c in cs)


def _deep_tanh_sigmoid(ev: Evidence) -> Measured:
    found = [_cells(ev, a, deepest=True) for a in ("tanh", "sigmoid")]
    if any(f is None for f in found):
        return NOT_RUN_HERE
    parts, verdicts = [], []
    for a, pair in zip(("tanh", "sigmoid"), found):
        assert pair is not None
        cs, depth = pair
        parts.append(f"{a}, worse than relu in {_worse(cs)} of {len(cs)} cells (MLPs at depth {depth}, and the "
                     f"paper's CNN and GRU where run): {_describe(cs)}")
        verdicts.append(REPRODUCED if _worse(cs) * 2 > len(cs) else
                        NOT_REPRODUCED if _worse(cs) == 0 or _better(cs) else INCONCLUSIVE)
    verdict = (REPRODUCED if all(v == REPRODUCED for v in verdicts) else
               NOT_REPRODUCED if NOT_REPRODUCED in verdicts else INCONCLUSIVE)
    return Measured(". ".join(parts), verdict)


def _better_than_relu(act: str, deepest: bool) -> Callable[[Evidence], Measured]:
    def check(ev: Evidence) -> Measured:
        found = _cells(ev, act, deepest)
        if found is None:
            return NOT_RUN_HERE
        cs, _ = found
        up, down = _better(cs), _worse(cs)
        verdict = (REPRODUCED if up * 2 >= len(cs) and not down else
                   NOT_REPRODUCED if up == 0 else INCONCLUSIVE)
        return Measured(f"{act} better than relu in {up}, worse in {down} of {len(cs)} cells: {_describe(cs)}",
                        verdict)
    return check


RULE_DEEP = ("At the benchmark's deepest MLP depth per dataset, and in the MNIST-1D paper's CNN and GRU where the "
             "store has them: tanh (and sigmoid) significantly worse than relu "
             f"(Holm-adjusted Wilcoxon p < {ALPHA:g}). Reproduced if each is worse in more than half of the cells; "
             "not reproduced if either is worse in none, or better in any; otherwise inconclusive.")
RULE_BETTER = (f"Per dataset and setting: significantly better than relu (Holm-adjusted Wilcoxon p < {ALPHA:g}). "
               "Reproduced if better in at least half of the cells and worse in none; not reproduced if better in "
               "none; otherwise inconclusive.")

CLAIMS = [
    Claim("001-deep-tanh-sigmoid", "001", "Tanh and sigmoid cause a large vanishing-gradient problem, so they are "
          "not recommended in deep networks (ReLU is the default).", SETUP, RULE_DEEP, "benchmark",
          _deep_tanh_sigmoid),
    Claim("001-swish-trains", "001", "Swish (SiLU) changes smoothly at 0 where ReLU changes abruptly, which makes "
          "it converge more easily in training.", SETUP, RULE_BETTER, "benchmark",
          _better_than_relu("silu", deepest=False)),
    Claim("002-selu-deep", "002", "SELU's outputs keep a constant variance, which helps deep networks against "
          "unstable gradients.", SETUP + "; the deepest depth only",
          RULE_BETTER.replace("Per dataset and setting", "At the deepest MLP depth and in the paper's CNN and GRU "
                              "where run, per dataset"), "benchmark",
          _better_than_relu("selu", deepest=True)),
]


def claims() -> list[Claim]:
    """The study's rows of the claims ledger."""
    return list(CLAIMS)
