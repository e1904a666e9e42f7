"""Every string the report shows is escaped: formulas with `<`, `>` and `&`, and stored text written to
run a script (a run record's command, a trial's task and config strings) read on the page exactly as
they were written and run nothing, in a real browser (headless Chromium through Playwright).

The store is made by the real API (single-sample and planar runs whose activations are formulas), then
given a crafted run record (`Store.add_run`) and crafted optimizer names, in the trials' configs and
columns (sqlite3, as any program that writes the file could)."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from actlab.results.store import Store
from actlab.studies.config import build
from actlab.studies.page import write_report
from actlab.studies.planar.study import PlanarConfig
from actlab.studies.planar.study import plan as planar_plan
from actlab.studies.runner import execute
from actlab.studies.single_sample.study import SingleSampleConfig
from actlab.studies.single_sample.study import plan as single_plan
from conftest import chromium, launch, local_only  # noqa: E402

FORMULAS = ["expr:where(x<abs(x), x, 0)", "expr:where(x>0, x, 0)"]
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=2">'
AMP = "Tom & Jerry &amp; <b>bold</b>"
"""`&amp;` must read as the five characters, not as `&`; `<b>` must not make bold text."""
COMMAND = f"actlab run {SCRIPT} {AMP}"
SINGLE_OPTIMIZER = f"adam {SCRIPT}"
PLANAR_OPTIMIZER = f"adam {IMG}"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("escaping")
    store = folder / "results.db"
    execute(single_plan(build(SingleSampleConfig, {"activations": [*FORMULAS, "tanh"], "optimizers": ["adam"],
                                                   "seeds": 2, "steps": 20, "lr": 0.1})), store)
    execute(planar_plan(build(PlanarConfig, {"datasets": ["circle"], "activations": [*FORMULAS, "tanh"],
                                             "widths": [3], "optimizers": ["adam"], "lr": 0.05, "seeds": 2,
                                             "steps": 30, "n": 60})), store)
    with Store(store) as s:
        s.add_run(COMMAND, study=IMG)
    with closing(sqlite3.connect(store)) as db, db:  # the optimizer: shown in sentences, cells and hover titles
        for study, name in (("single-sample", SINGLE_OPTIMIZER), ("planar", PLANAR_OPTIMIZER)):
            rows = db.execute("SELECT trial_id, config_json FROM trials WHERE study = ?", (study,)).fetchall()
            for tid, config in rows:
                c = json.dumps(json.loads(config) | {"optimizer": name})
                db.execute("UPDATE trials SET config_json = ?, optimizer = ? WHERE trial_id = ?", (c, name, tid))
    return write_report(store, folder / "report.html", command=f"pytest {IMG}")


def test_no_script_and_no_unescaped_markup_in_the_html(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert not re.search(r"<img(?![^>]*\ssrc=\"data:image/png;base64,)", page), "an <img> that is not a figure"
    assert "onerror=" not in page.replace("onerror=&quot;", "")  # only ever as escaped text
    assert "<b>" not in page
    for s in (*FORMULAS, SINGLE_OPTIMIZER, PLANAR_OPTIMIZER, COMMAND):  # each shows somewhere, escaped
        assert html.escape(s) in page, s
    assert "&amp;amp;" in page  # the literal '&amp;' of the run record, escaped once more



def test_the_page_shows_the_strings_literally_and_runs_nothing(report: Path) -> None:
    chromium()  # skip before Playwright starts where there is no Chromium
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    outside: list[str] = []

    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.route("**/*", local_only(outside))
            dialogs: list[str] = []

            def dialog(d: Any) -> None:
                dialogs.append(d.message)
                d.dismiss()

            page.on("dialog", dialog)
            page.goto(report.as_uri(), wait_until="load")
            pwned = page.evaluate("typeof window.__pwned")
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            text = page.inner_text("body")  # folded details included
            scripts = page.evaluate("document.scripts.length")
            titles = page.evaluate("[...document.querySelectorAll('[title]')].map(e => e.title)")
            bold = page.evaluate("document.querySelectorAll('b').length")
        finally:
            browser.close()
    assert pwned == "undefined" and dialogs == [] and scripts == 0 and bold == 0
    assert outside == [], outside
    for s in (COMMAND, IMG, SINGLE_OPTIMIZER, PLANAR_OPTIMIZER, *FORMULAS):
        assert s in text, f"not shown literally: {s}"
    assert any(PLANAR_OPTIMIZER in t for t in titles) and any(FORMULAS[0] in t for t in titles), titles
