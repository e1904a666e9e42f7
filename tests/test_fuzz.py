"""Inputs nobody tried: grammar-based fuzzing of everything a user types.

Formulas over the expression parser's whole whitelist (nesting, huge and tiny constants, 0/0,
overflow, nan and inf everywhere, constants, discontinuities), spec strings (every name with
random keyword arguments of every literal kind), `--set key=value` overrides and TOML preset
files. Each input must be handled (the analyser reports what it can and names what is
undefined) or rejected with `ActlabInputError` (CLI: exit 2 and one line on stderr); anything
else is a bug. The default suite runs a smoke version (about 250 cases); `pytest -m slow` runs
the same properties on more than 10 000. Regression tests for what the fuzzers found come last.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import math
import subprocess
import sys
import tempfile
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

import actlab
from actlab.catalog.expression import FUNCTIONS
from actlab.cli.jsonout import dumps
from actlab.core.describe import describe
from actlab.core.errors import ActlabInputError
from actlab.core.registry import entry
from actlab.studies.registry import resolve, resolve_default, studies
from actlab.studies.runner import plan_summary


def smoke(n: int) -> settings:
    """The default suite's share: about 250 cases in all, under a minute on two cores."""
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def slow(n: int) -> settings:
    """`pytest -m slow`: more than 10 000 cases in all."""
    return settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck))


# --- formulas: a grammar over the whole whitelist ----------------------------------------------
UNARY = sorted(n for n, (arity, _) in FUNCTIONS.items() if arity == 1)
NASTY_NUMBERS = ["0", "1", "2", "0.5", "1e308", "1.7976931348623157e308", "1e-308", "5e-324", "1e999", "1e-999",
                 "1" + "0" * 400, "10**10**10", "2**1024", "3.4e38", "65504", "1e-45", "0.1"]
NASTY_TERMS = ["0/0", "1/0", "-1/0", "x/0", "0*1e999", "1e999-1e999", "(-1)**0.5", "log(0)", "log(-1)", "sqrt(-1)",
               "exp(1000)", "exp(-1000)", "x**x", "1/x", "x**-2", "0**0", "0**-1", "tan(pi/2)", "sign(x)",
               "where(x > 0, 1, -1)", "where(x == 0, 0/0, x)", "where(x != x, 1, 0)", "clamp(x, 1, -1)", "pi", "e"]

numbers = st.one_of(
    st.sampled_from(NASTY_NUMBERS),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: repr(abs(v))),
    st.integers(0, 10**30).map(str),
)
leaves = st.one_of(st.just("x"), st.just("x"), numbers, st.sampled_from(NASTY_TERMS))


def _extend(sub: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(st.sampled_from(UNARY), sub).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/", "**"]), sub).map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
        sub.map(lambda a: f"-({a})"),
        st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(sub, sub, sub).map(lambda t: f"clamp({t[0]}, {t[1]}, {t[2]})"),
        st.tuples(sub, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), sub, sub, sub).map(
            lambda t: f"where({t[0]} {t[1]} {t[2]}, {t[3]}, {t[4]})"),
    )


formulas = st.recursive(leaves, _extend, max_leaves=12)
"""Whole formulas, within the parser's node and depth limits (test_expression checks the limits)."""


def check_report(d: dict[str, Any]) -> None:
    """A report: plain floats, no nan, every undefined measurement None with a reason, sane values."""
    measurements = {"minimum", "maximum", "range", "monotonic", "zero_centered", "kinks", "smoothness",
                    "derivative_range", "lipschitz", "saturation", "fixed_points", "output_moments", "gain",
                    "dead_fraction", "active_range"}
    assert set(d) == measurements | {"spec", "active_fraction", "cost", "undefined"}
    undefined = d["undefined"]
    assert set(undefined) <= measurements and all(isinstance(r, str) and r for r in undefined.values())
    for key in undefined:
        assert d[key] is None, key
    for key in measurements - set(undefined) - {"minimum", "maximum"}:
        assert d[key] is not None, key

    def no_nan(v: Any) -> None:
        if isinstance(v, float):
            assert not math.isnan(v)
        elif isinstance(v, dict):
            for u in v.values():
                no_nan(u)
        elif isinstance(v, list):
            for u in v:
                no_nan(u)
        else:
            assert v is None or isinstance(v, (bool, int, str)), type(v)

    no_nan(d)
    if d["range"] is not None:
        lo, hi = d["range"]
        assert lo <= hi
        for key in ("minimum", "maximum"):
            if d[key] is not None:
                assert lo <= d[key]["value"] <= hi and math.isfinite(d[key]["at"])
    if d["kinks"] is not None:
        assert d["kinks"] == sorted(d["kinks"]) and all(math.isfinite(k) for k in d["kinks"])
        assert d["smoothness"] in (-1, 0, 1, math.inf)
    if d["lipschitz"] is not None:
        assert d["lipschitz"] >= 0 and d["derivative_range"][0] <= d["derivative_range"][1]
    if d["gain"] is not None:
        assert d["gain"] >= 0
    if d["dead_fraction"] is not None:
        assert -1e-9 <= d["dead_fraction"] <= 1 + 1e-9
    if d["active_range"] is not None:
        assert d["active_range"][0] <= d["active_range"][1]
    for fp in d["fixed_points"] or []:
        assert fp["lo"] <= fp["hi"] and isinstance(fp["attracting"], bool)
    back = json.loads(dumps(d), parse_constant=_no_constant)  # the JSON boundary: standard JSON
    assert back["spec"] == d["spec"]


def _no_constant(name: str) -> Any:
    raise AssertionError(f"non-standard JSON constant {name}")


def check_formula(formula: str) -> str:
    """'rejected' or 'measured'; anything but an ActlabInputError escaping is a bug."""
    try:
        act = actlab.create(f"expr:{formula}")
    except ActlabInputError:
        event("formula rejected")
        return "rejected"
    event("formula measured")
    assert actlab.create(act.spec).spec == act.spec
    x = torch.tensor([-1e30, -3.0, -1.0, 0.0, 0.5, 2.0, 1e30, math.inf, -math.inf, math.nan])
    for dtype in (torch.float32, torch.float64, torch.bfloat16):  # runs in every dtype; values may be anything
        assert act(x.to(dtype)).shape == x.shape
        assert act.derivative(x.to(dtype)).shape == x.shape
    check_report(actlab.analyze(act, cost=False).to_dict())
    return "measured"


def test_the_grammar_covers_the_whole_whitelist() -> None:
    used = set(UNARY) | {"min", "max", "clamp", "where"}
    assert used == set(FUNCTIONS)


@smoke(20)
@given(formulas)
@example("x**(10**10**10)")
@example("0/0")
@example("1")
@example("1" + "0" * 400)
def test_formulas_are_measured_or_rejected(formula: str) -> None:
    check_formula(formula)


@pytest.mark.slow
@slow(3000)
@given(formulas)
def test_formulas_are_measured_or_rejected_many(formula: str) -> None:
    check_formula(formula)


@smoke(40)
@given(st.text(max_size=40))
def test_any_text_is_a_formula_or_rejected(text: str) -> None:
    check_formula(text)


@pytest.mark.slow
@slow(1000)
@given(st.text(max_size=40))
def test_any_text_is_a_formula_or_rejected_many(text: str) -> None:
    check_formula(text)


# --- spec strings: every name, random keyword arguments of every literal kind ----------------------
NAMES = actlab.names()


def py_literal(v: Any) -> str:
    """Python source of a literal value (what a spec string holds)."""
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else "inf" if v > 0 else "-inf"
    if isinstance(v, list):
        return "[" + ", ".join(py_literal(u) for u in v) + "]"
    if isinstance(v, tuple):
        return "(" + "".join(py_literal(u) + ", " for u in v) + ")"
    return repr(v)


scalars = st.one_of(
    st.integers(-10, 10), st.integers(-(10**30), 10**30), st.sampled_from([0, 1, 2, 3, 64, 2**31, 2**63, 10**400]),
    st.floats(), st.sampled_from([0.0, -0.0, 1e-308, 5e-324, 1e308, 3.5e38, 65520.0]),
    st.text(max_size=8), st.sampled_from(NAMES + ["expr:x*sigmoid(x)", "expr:0/0", "snake(a=0.5)", "'", "\\"]),
    st.booleans(), st.none(),
)
literals = st.recursive(st.one_of(scalars, st.just([]), st.just(())),
                        lambda c: st.one_of(st.lists(c, min_size=1, max_size=3), st.tuples(c, c)), max_leaves=6)


def plausible(default: Any) -> st.SearchStrategy[Any]:
    """Values of the kind a parameter's default has (most are accepted), edges included."""
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.integers(-1, 6)
    if isinstance(default, float):
        return st.one_of(st.floats(-10, 10), st.sampled_from([0.0, 1e-300, 1e-30, 1e30, 3.4e38, -1e30]))
    if isinstance(default, str):
        return st.sampled_from([default, "tanh", "sigmoid", "none", "input", "half_normal", "normal", ""])
    return literals


@st.composite
def specs(draw: st.DrawFn) -> str:
    """NAME(key=value, ...): the entry's own keywords with plausible or arbitrary literals, stray keywords."""
    name = draw(st.sampled_from(NAMES))
    fixed = entry(name).fixed  # a variant's own arguments (acon_a fixes p1, p2) are refused, so rarely tried
    params = {k: p.default for k, p in inspect.signature(actlab.get_class(name).__init__).parameters.items()
              if k not in ("self", "params")}
    own = [k for k in sorted(params) if k not in fixed]
    stray = st.sampled_from(["x", "a", *fixed])
    keys = draw(st.lists(st.one_of(*[st.sampled_from(own)] * 4, stray) if own else stray,
                         max_size=3 if own else draw(st.sampled_from([0, 0, 0, 1])), unique=True))
    args = ", ".join(f"{k}={py_literal(draw(st.one_of(plausible(params.get(k)), plausible(params.get(k)), literals)))}"
                     for k in keys)
    return f"{name}({args})" if keys or draw(st.booleans()) else name


def check_spec(spec: str) -> str:
    try:
        act = actlab.create(spec)
    except ActlabInputError:
        event("spec rejected")
        return "rejected"
    event("spec built")
    again = actlab.create(act.spec)  # the spec round-trips
    assert again.spec == act.spec
    json.loads(dumps(describe(act)), parse_constant=_no_constant)  # what `actlab show --json` prints
    if act.properties.elementwise:
        act.eval()
        channels = max([getattr(act, n).numel() for n in act.param_names] + [1])  # per-channel: on dim 1
        x = torch.tensor([-1e4, -1.0, 0.0, 1.0, 1e4])[:, None].expand(5, channels)
        with torch.no_grad():
            assert act(x).shape == x.shape  # float32, as in a model
        check_report(actlab.analyze(act, cost=False).to_dict())
    return "created"


@smoke(40)
@given(specs())
@example("relu(a=" + "-" * 1990 + "1)")
@example("snake(a=1" + "0" * 400 + ")")
@example("star_relu(scale=1e308)")
@example("snake(num_parameters=10000000000000000000000000000000)")
def test_specs_are_built_or_rejected(spec: str) -> None:
    check_spec(spec)


@pytest.mark.slow
@slow(2500)
@given(specs())
def test_specs_are_built_or_rejected_many(spec: str) -> None:
    check_spec(spec)


@smoke(40)
@given(st.text(max_size=30))
def test_any_text_is_a_spec_or_rejected(text: str) -> None:
    check_spec(text)


@pytest.mark.slow
@slow(1000)
@given(st.text(max_size=30))
def test_any_text_is_a_spec_or_rejected_many(text: str) -> None:
    check_spec(text)


# --- configs: --set key=value and TOML presets ---------------------------------------------------
def toml_literal(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else "inf" if v > 0 else "-inf"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_literal(u) for u in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {toml_literal(u)}" for k, u in v.items()) + "}"
    return repr(v)


CONFIG_KEYS = sorted({f for s in studies().values() for f in s.config.__dataclass_fields__} | {"study"})
# small counts only: a plan of 10⁹ seeds is a plan of 10⁹ trials (see the note in the report)
config_scalars = st.one_of(
    st.integers(-3, 12), st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 10**30]), st.floats(),
    st.sampled_from(["none", "clip", "reflect", "adam", "sgd", "cmaes", "circle", "xor", "relu", "tanh",
                     "expr:x*sigmoid(x)", "expr:0/0", "expr:x/0", "expr:1e999", "expr:sign(x)", "snake(a=0.5)",
                     "softmax", "nope", ""]),
    st.booleans(), st.text(max_size=6),
)
config_values = st.recursive(
    st.one_of(config_scalars, st.just([]), st.just({})),
    lambda c: st.one_of(st.lists(c, min_size=1, max_size=3), st.dictionaries(st.sampled_from("ab"), c, min_size=1,
                                                                             max_size=2)),
    max_leaves=4)
WORDS = ["none", "clip", "reflect", "adam", "sgd", "momentum", "rmsprop", "adamm", "cmaes", "snes", "circle", "xor",
         "spiral", "moons", "relu", "tanh", "gelu", "snake(a=0.5)", "expr:x*sigmoid(x)", "expr:sign(x)",
         "expr:where(x > 1, 1e30, x)", "expr:log(x)", "expr:x/0", "mixed(acts=['cos', 'identity'])", "softmax"]


KEY_WORDS = {"bounds": ["none", "clip", "reflect"], "datasets": ["circle", "xor", "spiral", "moons", "periodic"],
             "optimizers": ["adam", "sgd", "cmaes", "snes", "adamm", "momentum", "rmsprop"],
             "activations": ["tanh", "relu", "snake(a=0.5)", "expr:x*sigmoid(x)", "expr:sign(x)", "expr:log(x)",
                             "expr:where(x > 1, 1e30, x)", "expr:-x", "mixed(acts=['cos', 'identity'])"]}
KEY_WORDS["output_activation"] = KEY_WORDS["activations"]


def typed(hint: Any, key: str = "") -> st.SearchStrategy[Any]:
    """Values of a config field's type, most of them accepted, edges and wrong words included."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(typed(a, key) for a in args if a is not type(None)))
    if origin in (list, Sequence):
        return st.lists(typed(args[0], key), min_size=1, max_size=3)
    if hint is int:
        return st.one_of(st.integers(1, 5), st.integers(1, 5), st.sampled_from([0, -1, 10**5 + 1, 2**63 - 1]))
    if hint is float:
        return st.one_of(st.floats(1e-3, 1), st.floats(1e-3, 1), st.floats(-2, 2),
                         st.sampled_from([0.0, 1e-300, 1e300, 3.5e38, -1e30]))
    words = KEY_WORDS.get(key)
    return st.one_of(st.sampled_from(words), st.sampled_from(words), st.sampled_from(WORDS)) if words else \
        st.sampled_from(WORDS)


HINTS: dict[str | None, dict[str, Any]] = {name: typing.get_type_hints(s.config) for name, s in studies().items()}
HINTS[None] = {**HINTS["planar"], **HINTS["single-sample"]}  # the default run: a key of either stage
raw_values = st.one_of(config_values.map(toml_literal), st.text(max_size=12),
                       st.sampled_from(["1979-05-27", "07:32:00", "[1, 'a']", "[[]]", "\"\"\"x\"\"\"", "0x10", "1_000",
                                        "+inf", "-nan", "reflect", "a b", "[", "{a = }"]))


def typed_items(study: str | None) -> st.SearchStrategy[tuple[str, Any]]:
    """(key, value) of the study's own fields, the value of the field's type."""
    hints = HINTS[study]
    return st.sampled_from(sorted(hints)).flatmap(lambda k: typed(hints[k], k).map(lambda v: (k, v)))


@st.composite
def runs(draw: st.DrawFn) -> tuple[str | None, list[str]]:
    """`actlab run [STUDY] --set ...`: mostly the study's own keys with values of their types, then
    any key with any TOML value, and any text."""
    study = draw(st.sampled_from(["single-sample", "planar", None]))
    typed_set = typed_items(study).map(lambda kv: f"{kv[0]}={toml_literal(kv[1])}")
    other = st.tuples(st.sampled_from(CONFIG_KEYS), raw_values).map(lambda t: f"{t[0]}={t[1]}")
    return study, draw(st.lists(st.one_of(typed_set, typed_set, typed_set, other, st.text(max_size=12)), max_size=3))


def check_config(study: str | None, sets: list[str], preset: str | None = None) -> str:
    """What `actlab run [study] --dry-run --set ...` does before printing: resolve, plan, summarise."""
    try:
        stages = resolve_default(sets) if study is None and preset is None else [
            resolve(preset or study, sets, quick=True)]
        for s, cfg in stages:
            plan_summary(s.plan(cfg), "/nonexistent/actlab-fuzz/results.db")
    except ActlabInputError:
        event("config rejected")
        return "rejected"
    event("config planned")
    return "planned"


@smoke(25)
@given(runs())
@example(("single-sample", ["seeds=100000000000000000000"]))
@example(("single-sample", ['activations=["expr:x/0"]']))
@example(("single-sample", ['activations=["expr:x*sigmoid(x)"]']))
@example(("single-sample", ["input=nan"]))
def test_overrides_are_planned_or_rejected(run: tuple[str | None, list[str]]) -> None:
    check_config(*run)


@pytest.mark.slow
@slow(1500)
@given(runs())
def test_overrides_are_planned_or_rejected_many(run: tuple[str | None, list[str]]) -> None:
    check_config(*run)


SMALL = {"seeds": 1, "activations": ["tanh"], "lr": 0.1}
"""What a fuzzed preset starts from (its own keys win): the full defaults plan 10⁵ trials."""


def toml_file(values: dict[str, Any]) -> str:
    return "\n".join(f"{k} = {toml_literal(v)}" for k, v in {**SMALL, **values}.items())


def typed_preset(study: str) -> st.SearchStrategy[str]:
    values = st.lists(typed_items(study), max_size=3, unique_by=lambda kv: kv[0]).map(dict)
    return values.map(lambda d: f"study = {json.dumps(study)}\n" + toml_file(d))


presets = st.one_of(
    typed_preset("single-sample"), typed_preset("planar"),
    st.tuples(st.sampled_from(["single-sample", "planar", "nope"]),
              st.dictionaries(st.sampled_from(CONFIG_KEYS), config_values, max_size=3)).map(
        lambda t: f"study = {json.dumps(t[0])}\n" + toml_file(t[1])),
    st.dictionaries(st.sampled_from(CONFIG_KEYS), config_values, max_size=4).map(toml_file),
    st.text(max_size=40),
)


def check_preset(text: str | bytes, sets: list[str]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.toml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        return check_config(None, sets, preset=str(path))


@smoke(20)
@given(st.one_of(presets, st.binary(max_size=40)), st.lists(raw_values.map(lambda v: f"steps={v}"), max_size=1))
@example(b"\xff\xfe\x00", [])
@example('study = "single-sample"\nseeds = [1e400]', [])
def test_preset_files_are_planned_or_rejected(text: str | bytes, sets: list[str]) -> None:
    check_preset(text, sets)


@pytest.mark.slow
@slow(600)
@given(st.one_of(presets, st.binary(max_size=40)), st.lists(raw_values.map(lambda v: f"steps={v}"), max_size=1))
def test_preset_files_are_planned_or_rejected_many(text: str | bytes, sets: list[str]) -> None:
    check_preset(text, sets)


# --- the command line --------------------------------------------------------------------------------
def cli_in_process(*args: str) -> tuple[int, str, str]:
    """`actlab ARGS` through the real entry point (`main()`: exit codes, one-line errors), in this process."""
    from actlab.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["actlab", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


def check_cli(code: int, out: str, err: str, as_json: bool) -> None:
    assert code in (0, 2), (code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("actlab: error: "), err
        assert out == ""
    elif as_json:
        json.loads(out, parse_constant=_no_constant)


def cli_case(kind: str, text: str, as_json: bool) -> list[str]:
    """The command line of one case: analyze TEXT, show TEXT or run --dry-run --set TEXT."""
    if kind in ("analyze", "show"):  # `--`: a formula may start with '-'
        return [kind, *(["--json"] if as_json else []), "--", text]
    return ["run", "single-sample", "--quick", "--dry-run", "--store", "/nonexistent/actlab-fuzz/r.db", "--set", text]


cli_inputs = st.one_of(
    st.tuples(st.just("analyze"), st.one_of(formulas, specs(), st.text(max_size=20))),
    st.tuples(st.just("show"), st.one_of(specs(), formulas.map(lambda f: f"expr:{f}"), st.text(max_size=20))),
    st.tuples(st.just("run"), st.one_of(typed_items("single-sample").map(lambda kv: f"{kv[0]}={toml_literal(kv[1])}"),
                                        st.tuples(st.sampled_from(CONFIG_KEYS), raw_values).map(
                                            lambda t: f"{t[0]}={t[1]}"))),
)


@smoke(10)
@given(cli_inputs, st.booleans())
@example(("analyze", "x**(10**10**10)"), True)
@example(("analyze", "x +"), False)
def test_cli_handles_or_rejects_in_one_line(case: tuple[str, str], as_json: bool) -> None:
    args = cli_case(case[0], case[1], as_json)
    code, out, err = cli_in_process(*args)
    event(f"{case[0]}: exit {code}")
    check_cli(code, out, err, as_json=as_json and case[0] != "run")


@pytest.mark.slow
@slow(500)
@given(cli_inputs, st.booleans())
def test_cli_handles_or_rejects_in_one_line_many(case: tuple[str, str], as_json: bool) -> None:
    args = cli_case(case[0], case[1], as_json)
    code, out, err = cli_in_process(*args)
    event(f"{case[0]}: exit {code}")
    check_cli(code, out, err, as_json=as_json and case[0] != "run")


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "actlab", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


SUBPROCESS_CASES = [
    (["analyze", "x**(10**10**10)", "--json"], 0),
    (["analyze", "0/0", "--json"], 0),
    (["analyze", "x +"], 2),
    (["show", "expr:1e308*x", "--json"], 0),
    (["run", "single-sample", "--quick", "--dry-run", "--set", "seeds=100000000000000000000"], 2),
    (["run", "--dry-run", "--set", "input=nan"], 2),
]


@pytest.mark.parametrize(("args", "status"), SUBPROCESS_CASES, ids=[" ".join(a) for a, _ in SUBPROCESS_CASES])
def test_cli_subprocess(args: list[str], status: int, tmp_path: Path) -> None:
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == status, r.stderr
    check_cli(r.returncode, r.stdout, r.stderr, "--json" in args)
    if status == 0:
        assert r.stderr == ""
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(cli_inputs, st.booleans())
def test_cli_subprocess_many(case: tuple[str, str], as_json: bool) -> None:
    args = cli_case(case[0], case[1], as_json)
    if any("\x00" in a for a in args):  # an OS argument cannot hold a NUL byte
        return
    r = run_cli(*args)
    check_cli(r.returncode, r.stdout, r.stderr, as_json=as_json and case[0] != "run")


# --- regressions: one plain test per defect the fuzzers found ------------------------------------------
def measured(formula: str) -> dict[str, Any]:
    return actlab.analyze(f"expr:{formula}", cost=False).to_dict()


def test_overflowing_formula_is_measured() -> None:
    # was: TypeError 'float' object is not iterable (no finite far value to take a min of)
    d = measured("x**(10**10**10)")
    assert d["range"] == [0.0, math.inf] and d["undefined"]["monotonic"].startswith("f' is nan at x = ")
    assert measured("1e308*x*x")["range"] == [0.0, math.inf]


def test_constant_formulas_have_derivative_zero() -> None:
    # was: RuntimeError element 0 of tensors does not require grad (autograd of a constant)
    for formula, value in (("1", 1.0), ("where(x > 0, 1, -1)", None), ("1e308", 1e308)):
        d = measured(formula)
        assert d["derivative_range"] == [0.0, 0.0] and d["undefined"] == {}
        if value is not None:
            assert d["range"] == [value, value]
    act = actlab.create("expr:2")
    assert torch.equal(act.derivative(torch.ones(3)), torch.zeros(3))
    assert actlab.analyze(lambda t: torch.ones_like(t), cost=False)["dead_fraction"] == 1.0


def test_nan_measurements_are_undefined_with_a_reason() -> None:
    # was: range [nan, nan], monotonic False, gain inf for log(x); now None and a reason
    d = measured("log(x)")
    assert d["range"] is None and d["monotonic"] is None
    assert d["undefined"]["range"] == "f is nan at x = -0.001 (and 25,301 other sampled points)"
    assert d["derivative_range"] is None  # autograd's 1/x at x < 0 is no derivative of a nan
    d = measured("0/0")
    assert all(d[k] is None for k in d["undefined"]) and "range" in d["undefined"]


def test_overflowing_tails_do_not_break_monotonicity() -> None:
    # was: exp(x) monotonic False (inf − inf = nan in the differences of the tail)
    assert measured("exp(x)")["monotonic"] is True and measured("-exp(x)")["monotonic"] is False
    # was: exp's f' beyond 709 (inf) was dropped, so lipschitz was finite
    assert measured("exp(x)")["lipschitz"] == math.inf


def test_steps_are_discontinuities_and_jumps_are_not_fixed_points() -> None:
    # was: smoothness inf for sign(x) (f' = 0 everywhere: no jump in f' to see)
    d = measured("where(x > 0, 1, -1)")
    assert d["kinks"] == [0.0] and d["smoothness"] == -1
    assert measured("sign(x)")["kinks"] == [0.0]
    # was: a fixed point at 0.3, where x − f(x) only jumps from −1 to 0... and at the pole of 1/x
    assert measured("where(x > 0.3, x + 1, x)")["fixed_points"] == [{"lo": -math.inf, "hi": 0.3, "attracting": False}]
    assert measured("where(x > 0, x + 1, x - 1)")["fixed_points"] == []
    assert measured("-1/x")["fixed_points"] == []  # −1/x = x has no real root; its pole is not one


def test_huge_number_literals() -> None:
    # was: OverflowError int too large to convert to float
    assert measured("1" + "0" * 400)["range"] == [math.inf, math.inf]
    with pytest.raises(actlab.SpecError, match="64 bits"):
        actlab.create("snake(a=1" + "0" * 400 + ")")
    with pytest.raises(actlab.SpecError, match="64 bits"):
        actlab.create("snake(num_parameters=10000000000000000000000000000000)")


def test_constants_beyond_float32_are_inf_in_float32() -> None:
    # was: RuntimeError value cannot be converted to type float without overflow (float32 input)
    act = actlab.create("expr:x + 1e308")
    assert act(torch.zeros(2)).tolist() == [math.inf, math.inf]
    assert act(torch.zeros(2, dtype=torch.float64)).tolist() == [1e308, 1e308]


def test_deep_unary_minus_in_a_spec() -> None:
    # was: RecursionError
    with pytest.raises(actlab.SpecError, match="nested"):
        actlab.create("relu(a=" + "-" * 1990 + "1)")


def test_hyperparameters_must_fit_float32() -> None:
    # was: RuntimeError value cannot be converted to type float without overflow, when the parameter
    # was made (star_relu's learnable scale) or at the first float32 forward (F.hardtanh's cap)
    for spec in ("star_relu(scale=1e308)", "leaky_relu6(cap=3.402823466385289e+38)", "threshold(value=-1e300)",
                 "soft_shrink(lambd=3.5e38)"):
        with pytest.raises(actlab.ParameterError, match="float32 range"):
            actlab.create(spec)
    act = actlab.create("hard_tanh(max_val=3.4e38)")
    assert act(torch.tensor([1.0, -2.0])).tolist() == [1.0, -1.0]  # float32, no overflow error


def test_formulas_in_studies() -> None:
    # was: "Expression is not registered" (exit 2) for any formula in a study's activations
    s, cfg = resolve("single-sample", ['activations=["expr:x*sigmoid(x)"]', "seeds=1"], quick=True)
    batches = s.plan(cfg)
    assert batches and batches[0].trials[0].config["activation"] == "expr:x*sigmoid(x)"
    # was: TypeError / RuntimeError max() of an empty tensor for functions with no finite value, and
    # (once formulas ran) a report that could not print an undefined measurement
    for formula, message in (("x/0", "f is nan at x = 0"), ("0/0", "cannot be studied"), ("1e999", "no finite value"),
                             ("log(x)", "cannot be studied: f is nan at x = -0.001")):
        with pytest.raises(actlab.ActlabInputError, match=message):
            s.plan(resolve("single-sample", [f'activations=["expr:{formula}"]'], quick=True)[1])
    with pytest.raises(actlab.ActlabInputError, match="cannot be studied"):
        resolve("planar", ['activations=["expr:log(x)"]'], quick=True)


def test_non_finite_and_huge_config_numbers_are_refused() -> None:
    # was: OverflowError (seeds=10**20) and nan/inf accepted as the study's input
    # was: MemoryError for seeds=2**63-1 (a count expanded into a list), numpy's ValueError at run time
    # for a negative seed
    for text, message in (("seeds=100000000000000000000", "64-bit"), ("input=nan", "finite"),
                          ("lr=[0.1, inf]", "finite"), ("targets=[-inf]", "finite"),
                          ("seeds=9223372036854775807", "count from 1 to 100,000"), ("seeds=[3, -1]", "from 0")):
        with pytest.raises(actlab.ActlabInputError, match=message):
            resolve("single-sample", [text], quick=True)
    with pytest.raises(actlab.ActlabInputError, match="from 0"):
        resolve("planar", ["seeds=[-1]"], quick=True)


def test_cli_syntax_errors_are_bad_input() -> None:
    # was: internal error SyntaxError (exit 1) for `actlab analyze "x +"`
    for text in ("x +", "(", "relu(", "x=1", "x\x01"):
        code, out, err = cli_in_process("analyze", text)
        assert code == 2 and err.count("\n") == 1 and "cannot parse" in err, err


def test_show_plot_of_a_formula_with_undefined_measurements(tmp_path: Path) -> None:
    # was: TypeError 'NoneType' object is not iterable (kinks undefined), then matplotlib's
    # LinAlgError for curves near ±1e308
    for formula, line in (("0/0", "undefined: range: f is nan at x = 0"), ("1e308*x", "range (−∞, ∞)")):
        code, out, err = cli_in_process("show", f"expr:{formula}", "--plot", str(tmp_path / "f.png"))
        assert code == 0 and line in out, err


def test_usage_errors_are_one_line() -> None:
    # was: click's usage box (5 lines) for `actlab analyze -x`, `actlab show` and the like
    for args in (("analyze", "-x"), ("show",), ("bogus",), ("analyze", "relu", "--active-fraction", "abc")):
        code, out, err = cli_in_process(*args)
        assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("actlab: error: "), err
    code, out, err = cli_in_process("analyze", "--json", "--", "-x")  # a formula starting with '-'
    assert code == 0 and json.loads(out)["spec"] == "expr:-x"


def test_output_paths_are_checked_before_any_work(tmp_path: Path) -> None:
    # was: FileNotFoundError / NotADirectoryError (exit 1) after the figure or page was computed
    (tmp_path / "file").write_text("x")
    for args in (("plot", "relu", "-o", str(tmp_path / "file" / "f.png")),
                 ("show", "relu", "--plot", str(tmp_path / "file" / "f.png")),
                 ("docs", "-o", str(tmp_path / "file" / "docs")),
                 ("report", "--store", str(tmp_path / "file"), "-o", str(tmp_path / "file" / "r.html"))):
        code, out, err = cli_in_process(*args)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
    code, out, err = cli_in_process("plot", "relu", "-o", str(tmp_path / "new" / "sub" / "f.png"))
    assert code == 0 and (tmp_path / "new" / "sub" / "f.png").exists()  # a missing folder is made
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "new"]
