"""Inputs that tests in several folders build: a suite (manifest, runs, arrays, a store written
with the real :class:`~parity.suite.store.Store`) and agent transcripts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from parity.suite.records import RunRecord

SYSTEMS = ("reference", "candidate")


def manifest_dict(**changes):
    spec = {
        "name": "toy",
        "tasks": ["a", "b", "c"],
        "seeds": list(range(8)),
        "reruns": 2,
        "systems": {"reference": {"command": "r {out}"}, "candidate": {"command": "c {out}"}},
        "metrics": {
            "return": {"margin": {"relative": 0.05}},
            "cost": {"margin": {"absolute": 1.0}, "higher_is_better": False},
        },
        "aggregates": [
            {
                "name": "iqm_return",
                "metric": "return",
                "margin": {"ratio": 0.05},
                "n_resamples": 500,
            }
        ],
        "validity": {"bounds": ["cost >= 0"]},
        "components": {"probs": {"rtol": 1e-6}},
    }
    spec.update(changes)
    return spec


def runs_for(manifest, shift=1.0, sd=1.0):
    """Runs of two equal systems (the candidate's return times ``shift``); with components, each
    run lists a ``probs`` array (served by :func:`arrays`)."""
    out = []
    samples = {"probs": [4]} if manifest.components else {}
    for key in manifest.expected_keys():
        task = manifest.tasks.index(key.task)
        g = np.random.default_rng([SYSTEMS.index(key.system), task, key.seed, key.rerun])
        factor = shift if key.system == "candidate" else 1.0
        metrics = {
            "return": float(100 * factor + g.normal(0, sd)),
            "cost": float(5 + g.normal(0, 0.3)),
        }
        out.append(RunRecord(key, "ok", metrics, samples=samples))
    return out


def arrays(run):
    g = np.random.default_rng([ord(run.key.task[0]), run.key.seed])
    return {"probs": g.dirichlet(np.ones(4))}


def write_store(tmp_path: Path, spec: dict, runs) -> Path:
    import yaml

    from parity.suite.store import Store

    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with Store(tmp_path / "suite.parity.sqlite") as store:
        for run in runs:
            store.record(run)
    return path


def small_runs(tmp_path: Path, records) -> Path:
    path = tmp_path / "runs.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def chat_run(task, trial, names, **extra):
    msgs = [{"role": "user", "content": f"Please do {task}"}]
    for n in names:
        fn = {"name": n, "arguments": json.dumps({"x": task})}
        msgs += [{"role": "assistant", "tool_calls": [{"function": fn}]}, {"role": "tool"}]
    return {"task_id": task, "trial": trial, "reward": 1, "messages": msgs, **extra}
