"""The HTML reports in headless Chromium (Playwright): a comparison, a suite and agent runs.

Each page must load from its file alone (no other request), without console or page errors,
with every figure drawn at a non-zero size, without horizontal scrolling at a laptop's width,
and keep its figures when printed. A full-page screenshot goes to the test's tmp folder; with
``PARITY_SCREENSHOTS=docs/img`` the top of each page is also saved there as
``compare-report.png`` and ``suite-report.png`` (the README's pictures).

Chromium comes from ``PARITY_CHROMIUM`` or ``chromium``/``chromium-browser``/``google-chrome`` on
PATH (``scripts/ensure-chromium`` installs Debian's where it can). Without Playwright or a
Chromium the test SKIPS, saying so loudly.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from parity.cli.main import cli
from suites import arrays, manifest_dict, runs_for

#: Flags for a quiet, offline, sandbox-free (containers run as root) headless Chromium.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1000, "height": 1300}
# The page says the result's own word; "changed" (agents) is shown in the colour of a fail.
EXPECTED = {"compare": "fail", "suite": "fail", "agents-compare": "changed"}


def find_chromium() -> str | None:
    """``PARITY_CHROMIUM``, else the first Chromium or Chrome on PATH."""
    for name in (
        os.environ.get("PARITY_CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        found = name and shutil.which(name)
        if found:
            return found
    return None


def skip_loudly(reason: str) -> None:
    message = f"BROWSER TEST SKIPPED, THE HTML REPORTS WERE NOT OPENED IN A BROWSER: {reason}"
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


def save_small_png(png: bytes, path: Path) -> None:
    """The screenshot in 128 colours without dithering (a third of the bytes, looks the same)."""
    import io

    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        skip_loudly(f"Playwright is not importable ({exc}); pip install -e '.[test]'")
    executable = find_chromium()
    if executable is None:
        skip_loudly(
            "no Chromium found (set PARITY_CHROMIUM, or run scripts/ensure-chromium to install "
            "Debian's chromium)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def compare_report(folder: Path) -> Path:
    """``parity compare --html`` on the demo's broken variant, with paths as a user types them."""
    from parity.examples.arm import DT, simulate

    data = simulate(0)
    (folder / "data").mkdir(parents=True)
    for name in ("reference", "broken"):
        np.save(folder / "data" / f"{name}_actions.npy", data[f"{name}_actions"])
        np.save(folder / "data" / f"{name}_rollouts.npy", data[f"{name}_rollouts"])
    args = ["compare", "data/reference_actions.npy", "data/broken_actions.npy"]
    args += ["--ref-episodes", "data/reference_rollouts.npy"]
    args += ["--cand-episodes", "data/broken_rollouts.npy", "--dt", str(DT)]
    args += ["--out", "out", "--html", "report.html", "--quiet"]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    return folder / "report.html"


def suite_report(folder: Path) -> Path:
    """A suite with a regression on one task, a run never recorded and a run that failed."""
    from parity.report.html_suite import write_suite_html
    from parity.suite.checks import judge
    from parity.suite.manifest import parse_manifest
    from parity.suite.records import RunKey, RunRecord

    tasks = ["cartpole", "pendulum", "reacher", "hopper", "walker"]
    manifest = parse_manifest(manifest_dict(name="toy-agent", tasks=tasks))
    runs = []
    for run in runs_for(manifest):
        key = run.key
        if key == RunKey("candidate", "hopper", 3, 0):
            continue
        if key == RunKey("reference", "walker", 6, 1):
            run = RunRecord(key, "failed", {}, exit_code=137, stderr_tail="Killed (out of memory)")
        elif key.system == "candidate" and key.task == "reacher":
            run = RunRecord(key, "ok", {**run.metrics, "return": 0.9 * run.metrics["return"]})
        runs.append(run)
    record = judge(manifest, runs, rng=0, load_arrays=arrays).to_dict()
    return write_suite_html(record, folder, tasks=manifest.tasks, seeds=manifest.seeds)


def agent_reports(folder: Path) -> dict[str, Path]:
    """``parity agents analyze`` (reweighted) and ``compare`` on the shipped example runs."""
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        assert runner.invoke(cli, ["agents", "example", "--out", "ex"]).exit_code == 0
        args = ["agents", "analyze", "ex/agent_runs.json", "--target", "ex/agent_target.json"]
        result = runner.invoke(cli, [*args, "--out", "analyze"])
        assert result.exit_code == 0, result.output
        args = ["agents", "compare", "ex/agent_runs.json", "ex/agent_runs_new.json"]
        result = runner.invoke(cli, [*args, "--out", "diff"])
        assert result.exit_code == 1, result.output
    return {
        "agents-analyze": folder / "analyze" / "report.html",
        "agents-compare": folder / "diff" / "report.html",
    }


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    return {
        "compare": compare_report(tmp_path_factory.mktemp("compare")),
        "suite": suite_report(tmp_path_factory.mktemp("suite")),
        **agent_reports(tmp_path_factory.mktemp("agents")),
    }


@pytest.mark.parametrize("kind", ["compare", "suite", "agents-analyze", "agents-compare"])
def test_report_in_chromium(kind, browser, reports, tmp_path):
    path = reports[kind]
    url = path.resolve().as_uri()
    page = browser.new_page(viewport=VIEWPORT)
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url, wait_until="load")

    assert errors == []
    assert requests == [url]
    if kind in EXPECTED:
        word = page.locator(".verdict .word").first
        assert word.inner_text().strip().lower() == EXPECTED[kind]
        colour = word.evaluate("e => getComputedStyle(e).color")
        assert colour == "rgb(207, 34, 46)"  # VERDICT_COLOURS["fail"]
    figures = page.locator("figure.plot svg")
    n = path.read_text(encoding="utf-8").count('<figure class="plot">')
    assert figures.count() == n and n >= 2
    for i in range(n):
        box = figures.nth(i).bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, i
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], "the page scrolls sideways at a laptop's width"
    page.screenshot(path=tmp_path / f"{kind}-report.png", full_page=True)
    assert (tmp_path / f"{kind}-report.png").stat().st_size > 10_000

    target = os.environ.get("PARITY_SCREENSHOTS")
    if target:
        save_small_png(page.screenshot(full_page=False), Path(target) / f"{kind}-report.png")

    page.emulate_media(media="print")
    for i in range(n):
        box = figures.nth(i).bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, i
    assert errors == [] and requests == [url]
    page.close()
