"""``parity demo``: the 2-link-arm example end to end, from files, as a user would run it."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from parity.cli._conventions import DECIDING, ParityCommand
from parity.cli._params import SEED

#: Exit codes of `demo`: 0 when the faithful variant passes and the broken one fails.
DEMO = {
    0: "the faithful variant passes and the broken one fails",
    1: "either does not",
    2: DECIDING[2],
    4: DECIDING[4],
}


@click.command("demo", cls=ParityCommand, exit_codes=DEMO)
@click.option(
    "--out",
    "out_dir",
    default="parity-demo",
    show_default=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Folder for the example data and the reports.",
)
@click.option(
    "--seed", default=0, show_default=True, type=SEED, metavar="N", help="Seed of the simulation."
)
@click.option("--quiet", is_flag=True, help="No summaries on stderr.")
@click.option("--force", is_flag=True, help="Replace files in --out that parity did not write.")
@click.pass_context
def demo_command(ctx: click.Context, out_dir: str, seed: int, quiet: bool, force: bool) -> None:
    """Simulate a reaching policy and two "optimized" variants, and compare each with it.

    The faithful variant (float16 arithmetic) should pass and the broken one (int8-quantized
    commands with an offset zero-point) should fail. Writes the data to OUT/data and the
    reports to OUT/faithful and OUT/broken, both comparisons on one HTML page to OUT/report.html
    and their evidence bundle to OUT/evidence_bundle.zip; exit code 0 when both verdicts come
    out so.
    """
    import numpy as np

    from parity.cli._output import check_outputs, mark_folder
    from parity.cli.compare import load_and_compare, print_verdict, write_reports
    from parity.examples.arm import DT, VARIANTS, simulate
    from parity.report.bundle import BUNDLE_NAME

    check_outputs(folders={"--out": (out_dir, ("report.html", BUNDLE_NAME))}, force=force)
    out = mark_folder(out_dir)
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    data = simulate(seed)
    for name in ("reference", *VARIANTS):
        np.save(data_dir / f"{name}_actions.npy", data[f"{name}_actions"])
        np.savez(data_dir / f"{name}_rollouts.npz", actions=data[f"{name}_rollouts"])

    expected = {"faithful": "pass", "broken": "fail"}
    outcomes, results = {}, {}
    for name in VARIANTS:
        specs = (
            data_dir / "reference_actions.npy",
            data_dir / f"{name}_actions.npy",
            f"{data_dir / 'reference_rollouts.npz'}:actions",
            f"{data_dir / f'{name}_rollouts.npz'}:actions",
        )
        verdict, loaded = load_and_compare(*(str(s) for s in specs), dt=DT, rng=seed)
        write_reports(verdict, out / name, None, None)
        outcomes[name] = verdict.verdict
        results[name] = (verdict, loaded, [str(s) for s in specs])
        if not quiet:
            print_verdict(verdict, f"{name} variant vs reference policy")
            command = ["parity", "compare", str(specs[0]), str(specs[1])]
            command += ["--ref-episodes", specs[2], "--cand-episodes", specs[3]]
            command += ["--dt", str(DT), "--seed", str(seed), "--out", str(out / name)]
            click.echo(f"  same as: {shlex.join(command)}\n", err=True)
    html_path, bundle_path = write_demo_report(out, results, seed)
    for name, verdict in outcomes.items():
        click.echo(f"{name}: {verdict}  (reports in {out / name})")
    click.echo(f"report: {html_path}  (evidence bundle: {bundle_path})")
    ctx.exit(0 if outcomes == expected else 1)


def write_demo_report(out: Path, results: dict, seed: int) -> tuple[Path, Path]:
    """Both comparisons on one page, ``OUT/report.html``, and ``OUT/evidence_bundle.zip``.

    ``results`` maps variant → ``(verdict, loaded arrays, input specs)``. The bundle holds the
    page, each variant's reports, arguments and input hashes under ``<variant>/``, and the
    environment once.
    """
    from parity.cli._output import write_text
    from parity.examples.arm import DT
    from parity.report.bundle import (
        BUNDLE_NAME,
        build_bundle,
        comparison_entries,
        environment_record,
        json_bytes,
    )
    from parity.report.html_compare import comparisons_html

    html = comparisons_html(
        {
            f"{name} variant vs reference policy": {
                "record": verdict.to_dict(),
                "reference": loaded["reference"],
                "candidate": loaded["candidate"],
            }
            for name, (verdict, loaded, _) in results.items()
        },
        title="parity demo: a reaching policy and two optimized variants",
        intro="A simulated 2-link arm reaching policy (the reference) against a faithful "
        "variant (float16 arithmetic), which should pass, and a broken one (int8-quantized "
        "commands with an offset zero-point), which should fail.",
    )
    html_path, bundle_path = out / "report.html", out / BUNDLE_NAME
    write_text(html_path, html)
    entries = {"report.html": html.encode("utf-8")}
    for name, (verdict, _, specs) in results.items():
        roles = ("reference", "candidate", "reference_episodes", "candidate_episodes")
        arguments = {
            "command": "compare",
            "inputs": dict(zip(roles, specs, strict=True)),
            "options": {"dt": DT, "seed": seed},
        }
        # the page of both comparisons is the bundle's report.html; no page per variant
        for entry, data in comparison_entries(verdict, arguments, html=html).items():
            if entry not in ("report.html", "environment.json"):
                entries[f"{name}/{entry}"] = data
    entries["environment.json"] = json_bytes(environment_record())
    build_bundle(bundle_path, entries)
    return html_path, bundle_path
