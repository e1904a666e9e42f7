"""The HTML report in a real browser (headless Chromium): every image decodes, nothing is fetched
from outside the file, and it lays out on a phone-sized screen without sideways scrolling."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from actlab.studies.config import build
from actlab.studies.page import write_report
from actlab.studies.planar.study import PlanarConfig
from actlab.studies.planar.study import plan as planar_plan
from actlab.studies.runner import execute
from actlab.studies.single_sample.study import SingleSampleConfig
from actlab.studies.single_sample.study import plan as single_plan
from conftest import chromium  # noqa: E402

PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const res = performance.getEntriesByType('resource').map(r => r.name).filter(n => !n.startsWith('data:'));
  const out = {images: imgs.length, decoded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
               external: res, scroll: document.documentElement.scrollWidth, width: window.innerWidth};
  document.body.setAttribute('data-probe', JSON.stringify(out));
});
</script>"""



@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    store = folder / "results.db"
    execute(single_plan(build(SingleSampleConfig, {"activations": ["tanh", "relu"], "optimizers": ["adam", "cmaes"],
                                                   "seeds": 3, "steps": 30, "bounds": ["none", "reflect"]})), store)
    execute(planar_plan(build(PlanarConfig, {"datasets": ["circle"], "activations": ["tanh", "cos"],
                                             "widths": [2, 3], "optimizers": ["adam"], "lr": 0.05, "seeds": 2,
                                             "steps": 50, "n": 60})), store)
    return write_report(store, folder / "report.html", command="pytest")


@pytest.mark.parametrize("width", [1280, 390])  # a laptop and a phone
def test_report_renders_in_chromium(report: Path, width: int) -> None:
    exe = chromium()
    probe = report.with_name(f"probe-{width}.html")
    probe.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        f"--window-size={width},900", "--virtual-time-budget=5000", "--dump-dom",
                        probe.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r'data-probe="([^"]*)"', r.stdout)
    assert m, f"the page did not finish loading: {r.stderr[-2000:]}"
    out = json.loads(m.group(1).replace("&quot;", '"'))
    assert out["images"] >= 10 and out["decoded"] == out["images"], out
    assert out["external"] == [], out
    assert out["scroll"] <= out["width"] + 1, out  # no sideways scrolling: images and tables fit


def test_report_is_self_contained(report: Path) -> None:
    text = report.read_text()
    assert "<script" not in text and "@import" not in text and "url(" not in text
    assert not re.search(r'src="(?!data:)', text) and not re.search(r'href="(?!#)', text)  # links stay in the page
    for header in ("actlab report", "The answers", "Claims:", "The activations", "Single sample", "Planar"):
        assert header in text
