"""The command line, run as a user runs it (subprocess): output, JSON, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import actlab


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "actlab", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_list_json_is_the_whole_catalog() -> None:
    r = run("list", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["name"] for row in rows] == actlab.names()
    gelu = next(row for row in rows if row["name"] == "gelu")
    assert gelu["range"][1] == "inf" and abs(gelu["range"][0] + 0.16997) < 1e-5
    assert gelu["saturation"] == ["soft", "none"] and gelu["monotonic"] is False


def test_list_table_and_pattern() -> None:
    r = run("list", "*relu*")
    assert r.returncode == 0
    for name in actlab.names("*relu*"):
        assert name in r.stdout
    assert "sigmoid" not in r.stdout


def test_show_json_matches_the_declared_properties() -> None:
    r = run("show", "snake(a=0.5)", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["name"] == "snake" and info["params"]["a"] == 0.5
    assert info["properties"] == actlab.create("snake(a=0.5)").properties.to_dict()
    assert "Ziyin" in info["doc"] and r.stderr == ""


def test_show_table() -> None:
    r = run("show", "relu6")
    assert r.returncode == 0 and "torch.nn.ReLU6" in r.stdout and "[0, 6]" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "gleu"), "did you mean"),
        (("show", "snake(a=0)"), "a must be > 0"),
        (("show", "snake(a='x')"), "a must be a number"),
        (("show", "snake(z=1)"), "unknown parameter 'z'"),
        (("show", "relu(negative_slope=__import__('os').system('echo pwned'))"), "values must be literals"),
        (("show", "expr:x*foo(x)"), "unknown function"),
        (("list", "--json", "--bogus"), "No such option"),
        (("bogus",), "No such command"),
        (("run", "single-sample", "--set", "sedes=3"), "unknown config key 'sedes'; did you mean seeds"),
        (("run", "single-sample", "--set", "steps=lots"), "steps: expected int"),
        (("run", "single-sample", "--set", 'activations=["tanhh"]'), "tanhh"),
        (("run", "single-sample", "--set", 'optimizers=["lbfgs"]'), "unknown optimizer 'lbfgs'"),
        (("run", "single-sample", "--set", "bounds=wrap"), "bounds: must be one of"),
        (("run", "planar", "--set", 'datasets=["donut"]'), "datasets: expected"),
        (("run", "planar", "--set", "widths=[0]"), "widths: expected"),
        (("run", "--set", "nonsense=1"), "unknown config key 'nonsense' for the default run"),
        (("run", "planar-ish"), "unknown study 'planar-ish'"),
        (("run", "single-sample", "--backend", "mpi"), "unknown backend 'mpi'"),
        (("run", "single-sample", "--workers", "0"), "--workers must be ≥ 1"),
        (("run", "nothere.toml"), "no preset file nothere.toml"),
        (("propagate", "tanh", "--sigma-w", "-1"), "sigma_w must be a finite number > 0"),
        (("propagate", "softmax"), "is not elementwise"),
        (("propagate", "gleu"), "did you mean"),
        (("report",), "no results store at actlab-runs/results.db"),
        (("export", "-o", "t.csv"), "no results store"),
    ],
)
def test_bad_input_exits_2_with_one_clear_message(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr
    assert "Traceback" not in r.stderr and "pwned" not in r.stdout
    assert list(tmp_path.iterdir()) == []  # bad input writes nothing: no store, no report, no export
    if args[0] in ("show", "propagate", "run", "report", "export"):
        assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1


def test_console_script_and_module_agree() -> None:
    from pathlib import Path

    exe = Path(sys.executable).parent / "actlab"  # installed beside the interpreter running the tests
    assert exe.exists(), "the console script 'actlab' is not installed"
    a = subprocess.run([str(exe), "list", "--json"], capture_output=True, text=True, timeout=120)
    assert a.returncode == 0 and a.stdout == run("list", "--json").stdout
