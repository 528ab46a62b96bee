"""Tests of parity.agents: loaders (good and broken files), embedders, per-run and per-task
metrics, reweighting (Hajek = post-stratified mean, Kish ESS, uncovered mass, clipping,
bootstrap coverage), compare, the shipped example and the reports."""

from __future__ import annotations

import json
import math
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from parity._install import install_hint
from parity.agents import (
    AgentRun,
    Step,
    ToolCall,
    analyze_runs,
    compare_agents,
    compute_weighting,
    hajek,
    kish_ess,
    load_runs,
    load_target_profile,
    make_embedder,
    runs_from_records,
    target_profile_from,
    weighted_estimates,
)
from parity.agents.between import pass_hat_k, task_rows
from parity.agents.embedding import HashingEmbedder, embed_steps
from parity.agents.metrics import degenerate_reason, run_metrics
from parity.errors import ParityInputError
from parity.examples.agent_runs import (
    EXAMPLE_FILES,
    example_path,
    generate_runs,
    write_examples,
)
from parity.report.agents import analysis_payloads, comparison_payloads, csv_text

pytestmark = pytest.mark.filterwarnings("error::parity.errors.ParityWarning")


def call(name, args=None):
    return {"function": {"name": name, "arguments": json.dumps(args or {})}}


def chat_run(task="t1", trial=0, calls=(("search", {"q": "x"}),), **extra):
    msgs = [{"role": "user", "content": f"Do task {task}"}]
    for name, args in calls:
        msgs.append({"role": "assistant", "content": None, "tool_calls": [call(name, args)]})
        msgs.append({"role": "tool", "content": "ok"})
    msgs.append({"role": "assistant", "content": "done"})
    return {"task_id": task, "trial": trial, "reward": 1.0, "messages": msgs, **extra}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def make_run(run_id, task, steps, *, trial=0, variant="original", success=True, category=None):
    return AgentRun(
        run_id, task, trial, variant, success, None, f"text of {task}", category,
        tuple(steps), True, "",
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# loaders


def test_json_list_of_chat_runs(tmp_path):
    runs = [chat_run("t1", 0), chat_run("t1", 1, reward=0.0), chat_run("t2", 0, success=True)]
    loaded = load_runs(write(tmp_path, "runs.json", json.dumps(runs)))
    assert loaded.format == "runs-json"
    assert [(r.task_id, r.trial, r.success) for r in loaded.runs] == [
        ("t1", 0, True),
        ("t1", 1, False),
        ("t2", 0, True),
    ]
    run = loaded.runs[0]
    assert run.run_id == "t1#0" and run.task_text == "Do task t1"
    assert [s.text for s in run.steps] == ['search({"q": "x"})', "done"]
    assert run.tool_calls == (ToolCall("search", '{"q": "x"}'),)


def test_jsonl_runs_object_with_runs_key_and_tau_bench_traj(tmp_path):
    lines = "\n".join(json.dumps(chat_run("t1", i)) for i in range(2)) + "\n\n"
    loaded = load_runs(write(tmp_path, "runs.jsonl", lines))
    assert loaded.format == "runs-jsonl" and len(loaded.runs) == 2
    misnamed = write(tmp_path, "misnamed.json", lines)
    assert load_runs(misnamed).format == "runs-jsonl"
    wrapped = write(tmp_path, "w.json", json.dumps({"runs": [chat_run()]}))
    assert len(load_runs(wrapped).runs) == 1
    tau = chat_run()
    tau["traj"] = tau.pop("messages")
    assert load_runs(write(tmp_path, "tau.json", json.dumps([tau]))).runs[0].steps


def test_tool_call_rendering_content_parts_and_function_call():
    msgs = [
        {"role": "user", "content": [{"type": "text", "text": "Plan"}, {"type": "image_url"}]},
        {
            "role": "assistant",
            "content": "thinking",
            "tool_calls": [
                {"function": {"name": "a", "arguments": '{"y": 2, "x": 1}'}},
                {"function": {"name": "b", "arguments": {"k": [1, 2]}}},
            ],
        },
        {"role": "assistant", "function_call": {"name": "c", "arguments": "not json"}},
        {"role": "assistant", "content": [{"type": "text", "text": "final"}]},
    ]
    run = runs_from_records([{"task_id": 1, "messages": msgs}]).runs[0]
    assert run.task_id == "1" and run.task_text == "Plan" and run.success is None
    assert [s.text for s in run.steps] == [
        'a({"x": 1, "y": 2}) ; b({"k": [1, 2]})',
        "c(not json)",
        "final",
    ]


def test_default_trials_follow_the_order_within_a_task():
    records = [{k: v for k, v in chat_run(t).items() if k != "trial"} for t in "aba"]
    runs = runs_from_records(records).runs
    assert [(r.task_id, r.trial) for r in runs] == [("a", 0), ("b", 0), ("a", 1)]


def test_step_events_jsonl(tmp_path):
    events = [
        {"run_id": "r1", "step": 2, "action": {"name": "open", "arguments": {"p": "a"}}},
        {"run_id": "r1", "step": 0, "text": "plan", "task_id": "t", "reward": 1},
        {"run_id": "r2", "step": 0, "action": "search(weather paris)", "task_id": "t"},
        {"run_id": "r1", "step": 1, "action": "search()", "reward": 1},
    ]
    text = "".join(json.dumps(e) + "\n" for e in events)
    loaded = load_runs(write(tmp_path, "events.jsonl", text))
    assert loaded.format == "step-events"
    r1, r2 = loaded.runs
    assert [s.text for s in r1.steps] == ["plan", "search()", 'open({"p": "a"})']
    assert (r1.task_id, r1.trial, r1.success, r2.trial, r2.success) == ("t", 0, True, 1, None)
    assert r2.steps[0].tool_calls == (ToolCall("search", "weather paris"),)
    assert r1.tool_calls_recorded


def test_text_only_step_events_do_not_count_as_missing_tool_calls():
    loaded = runs_from_records(
        [{"run_id": "r", "step": i, "text": f"thought {i}"} for i in range(3)]
    )
    run = loaded.runs[0]
    assert not run.tool_calls_recorded
    assert degenerate_reason(run) is None


@pytest.mark.parametrize(
    ("text", "name", "match"),
    [
        (
            '[{"task_id": "t", "messages": [}]',
            "bad.json",
            r"bad\.json: not valid JSON \(.* at line 1, column",
        ),
        ('{"task_id": "t"\n', "bad.jsonl", r"bad\.jsonl: line 1 is not valid JSON"),
        ("", "empty.json", r"empty\.json: empty file"),
        ('{"a": 1}', "obj.json", r"obj\.json: expected a JSON list of runs"),
        ('[{"foo": 1}]', "keys.json", r"run 0: cannot tell the format.*got keys foo"),
        ("[]", "none.json", r"none\.json: no runs"),
    ],
)
def test_broken_files(tmp_path, text, name, match):
    with pytest.raises(ParityInputError, match=match):
        load_runs(write(tmp_path, name, text))


def test_missing_file():
    with pytest.raises(ParityInputError, match=r"nope\.json: file not found"):
        load_runs("nope.json")


def _broken_runs():
    good = chat_run("t1", 0)
    no_task = {k: v for k, v in chat_run("t2", 0).items() if k != "task_id"}
    bad_name = chat_run("t3", 0)
    bad_name["messages"][1]["tool_calls"][0]["function"]["name"] = ""
    bad_reward = chat_run("t4", 0, reward="high")
    bad_messages = {"task_id": "t5", "messages": "hello"}
    duplicate = chat_run("t1", 0)
    return [good, no_task, bad_name, bad_reward, bad_messages, duplicate]


@pytest.mark.parametrize(
    ("index", "match"),
    [
        (1, r"runs\.json: run 1: `task_id` is required"),
        (2, r"run 2: `messages\[1\]\.tool_calls\[0\]\.function\.name` must be a non-empty "
         r'string; got ""'),
        (3, r'run 3: `reward` must be a number; got "high"'),
        (4, r'run 4: `messages` must be a list of messages; got "hello"'),
        (5, r"run 5: duplicate \(task_id, trial\) = \('t1', 0\); also run 0"),
    ],
)  # fmt: skip
def test_malformed_run_names_index_and_field(tmp_path, index, match):
    runs = _broken_runs()
    records = [runs[0], runs[index]]
    text = json.dumps(records)
    with pytest.raises(ParityInputError, match=match.replace(f"run {index}", "run 1")):
        load_runs(write(tmp_path, "runs.json", text))


def test_skip_invalid_skips_and_reports(tmp_path):
    path = write(tmp_path, "runs.json", json.dumps(_broken_runs()))
    with pytest.raises(ParityInputError, match="run 1"):
        load_runs(path)
    loaded = load_runs(path, skip_invalid=True)
    assert [r.task_id for r in loaded.runs] == ["t1"]
    assert [s.source for s in loaded.skipped] == [f"run {i}" for i in range(1, 6)]
    assert "duplicate" in loaded.skipped[-1].error


def test_skip_invalid_jsonl_lines_and_all_invalid(tmp_path):
    text = json.dumps(chat_run()) + "\n{broken\n"
    loaded = load_runs(write(tmp_path, "r.jsonl", text), skip_invalid=True)
    assert len(loaded.runs) == 1 and loaded.skipped[0].source == "line 2"
    bad = write(tmp_path, "bad.json", json.dumps([{"task_id": "t", "messages": 3}]))
    with pytest.raises(ParityInputError, match="no valid run left"):
        load_runs(bad, skip_invalid=True)


@pytest.mark.parametrize(
    ("events", "match"),
    [
        ([{"run_id": "r", "text": "x"}], r"run_id 'r': run 0: `step` is required"),
        (
            [{"run_id": "r", "step": 0, "text": "a"}, {"run_id": "r", "step": 0, "text": "b"}],
            r"run 1: `step` must be unique within run 'r'; got 0",
        ),
        (
            [{"run_id": "r", "step": 0, "text": "a", "reward": 1},
             {"run_id": "r", "step": 1, "text": "b", "reward": 0}],
            r"run 1: `reward` must be the same on every event of the run \(run 0: 1\); got 0",
        ),
        ([{"run_id": "r", "step": 0}], r"`text` or `action` is required"),
        ([{"run_id": "r", "step": 0, "action": "(x)"}], r"`action` must start with a tool name"),
        ([{"run_id": "r", "step": -1, "text": "a"}], r"`step` must be an integer ≥ 0; got -1"),
    ],
)  # fmt: skip
def test_broken_step_events(events, match):
    with pytest.raises(ParityInputError, match=match):
        runs_from_records(events, label="ev.jsonl")


# --------------------------------------------------------------------------------------------
# embedders


@pytest.mark.extra("agents")
def test_hashing_embedder_identical_texts_identical_rows():
    emb = embed_steps([["open(a)", "open(a)", "read(b, 2)"], ["read(b, 3)"]], HashingEmbedder())
    x, y = emb.trajectory(0), emb.trajectory(1)
    assert np.allclose(x[0], x[1]) and np.isclose(np.linalg.norm(x[2]), 1.0)
    assert float(x[2] @ y[0]) < 0.9  # single digits are tokens: page 2 ≠ page 3
    sub = emb.select(1, 2)
    assert np.array_equal(sub.trajectory(0), y)


def test_minilm_without_sentence_transformers_gives_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ParityInputError, match=re.escape(install_hint("embed"))) as info:
        make_embedder("minilm")
    assert "never downloads" in str(info.value) and "\n" not in str(info.value)


def test_minilm_without_the_model_gives_the_install_hint(monkeypatch):
    seen = {}

    class Missing:
        def __init__(self, name, **kwargs):
            import os

            seen.update(kwargs, offline=os.environ.get("HF_HUB_OFFLINE"))
            raise OSError(f"We couldn't connect to 'https://huggingface.co' to load {name}")

    fake = types.ModuleType("sentence_transformers")
    fake.SentenceTransformer = Missing
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)
    with pytest.raises(
        ParityInputError, match="not installed locally.*" + re.escape(install_hint("embed"))
    ):
        make_embedder("minilm")
    assert seen == {"device": "cpu", "local_files_only": True, "offline": "1"}


def test_minilm_with_a_local_model_embeds(monkeypatch):
    class Model:
        def __init__(self, name, **kwargs):
            self.name = name

        def encode(self, texts, **kwargs):
            assert kwargs["normalize_embeddings"]
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    fake = types.ModuleType("sentence_transformers")
    fake.SentenceTransformer = Model
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)
    emb = make_embedder("minilm", "/models/minilm")
    assert emb.describe()["model"] == "/models/minilm"
    assert emb.fit_transform(["ab", "c"]).tolist() == [[2.0, 1.0], [1.0, 1.0]]


# --------------------------------------------------------------------------------------------
# per-run metrics


def steps_of(names):
    calls = [ToolCall(n, "") for n in names]
    return [Step(c.render(), (c,)) for c in calls]


@pytest.mark.parametrize(
    ("steps", "reason"),
    [
        ([], "0 steps"),
        ([Step("hi")], "1 step"),
        ([Step("same")] * 4, "all 4 steps identical"),
        ([Step("a"), Step("b")], "no tool calls"),
    ],
)
@pytest.mark.extra("agents")
def test_degenerate_runs_short_circuit(steps, reason):
    run = make_run("r", "t", steps)
    emb = embed_steps([[s.text for s in steps]], HashingEmbedder())
    row = run_metrics(run, emb.trajectory(0))
    assert row["degenerate"] and row["degenerate_reason"] == reason
    assert row["loop"] is None and row["determinism"] is None and row["action_entropy"] is None


@pytest.mark.extra("agents")
def test_run_metrics_of_a_loop_and_a_stall():
    loop = make_run("l", "t", steps_of(["plan"] + ["read", "edit", "test"] * 4))
    stall = make_run("s", "t", steps_of(["plan", "poll", "poll", "poll", "poll", "read", "done"]))
    emb = embed_steps([[s.text for s in r.steps] for r in (loop, stall)], HashingEmbedder())
    a, b = run_metrics(loop, emb.trajectory(0)), run_metrics(stall, emb.trajectory(1))
    assert (a["loop"], a["loop_start"], a["loop_period"], a["stall"]) == (True, 1, 3, False)
    assert a["exact_repeats"] == 9 and a["exact_repeat_rate"] == pytest.approx(9 / 13)
    assert a["determinism"] > 0.9 and a["laminarity"] == 0.0
    assert (b["loop"], b["stall"], b["longest_stall"]) == (False, True, 4)
    assert b["laminarity"] > 0.5 and b["determinism"] == 0.0
    assert b["action_entropy"] == pytest.approx(
        -sum(p * math.log2(p) for p in (1 / 7, 4 / 7, 1 / 7, 1 / 7))
    )


# --------------------------------------------------------------------------------------------
# between runs


def test_pass_hat_k():
    assert pass_hat_k(4, 4, 3) == 1.0 and pass_hat_k(4, 0, 1) == 0.0
    assert pass_hat_k(5, 3, 2) == pytest.approx(3 / 10)
    assert math.isnan(pass_hat_k(2, 1, 3))


@pytest.mark.extra("agents")
def test_identical_runs_have_constraint_one_and_no_divergence():
    steps = steps_of(["plan", "search", "read", "answer", "check"])
    runs = [make_run(f"r{i}", "t", steps, trial=i) for i in range(3)]
    runs.append(make_run("p", "t", steps_of(["plan", "x", "y", "z", "w"]), trial=3,
                         variant="perturbed"))  # fmt: skip
    emb = embed_steps([[s.text for s in r.steps] for r in runs], HashingEmbedder())
    rows = [run_metrics(r, emb.trajectory(i)) for i, r in enumerate(runs)]
    (task,), pairs = task_rows(runs, rows, emb)
    assert task["constraint_index"] == pytest.approx(1.0, abs=1e-12)
    assert task["divergence_trial"] == 0.0
    assert task["divergence_perturbation"] > 1.0
    assert (task["n_trial_pairs"], task["n_perturbation_pairs"]) == (3, 3)
    assert [task[f"pass^{k}"] for k in (1, 2, 4)] == [1.0, 1.0, 1.0]
    assert {p.kind for p in pairs} == {"trial", "perturbation"}


# --------------------------------------------------------------------------------------------
# reweighting


def clustered_runs(sizes, trials, seed=0):
    """Runs of tasks in categories with per-run outcomes; returns runs, rows, task index."""
    g = np.random.default_rng(seed)
    runs, rows, task_of_run = [], [], []
    q = 0
    for cat, (n_tasks, p) in sizes.items():
        for _ in range(n_tasks):
            for trial in range(trials):
                runs.append(make_run(f"{cat}{q}#{trial}", f"{cat}{q}", [], trial=trial,
                                     category=cat))  # fmt: skip
                rows.append({"loop": float(g.random() < p), "n_steps": float(g.integers(5, 20))})
                task_of_run.append(q)
            q += 1
    return runs, rows, task_of_run


def test_hajek_with_cluster_weights_equals_post_stratified_mean():
    runs, rows, task_of_run = clustered_runs({"a": (5, 0.1), "b": (3, 0.5), "c": (4, 0.8)}, 3)
    shares = {"a": 0.2, "b": 0.5, "c": 0.3}
    w = compute_weighting(runs, target_profile_from({"by": "category", "shares": shares}))
    for metric in ("loop", "n_steps"):
        y = np.array([r[metric] for r in rows])
        cats = np.array([r.category for r in runs])
        post = sum(shares[c] * y[cats == c].mean() for c in shares)
        assert abs(hajek(y, w.weights) - post) < 1e-12
    est = weighted_estimates(rows, [{}] * 12, w, task_of_run, n_resamples=50)
    loop = next(e for e in est if e.metric == "loop")
    y = np.array([r["loop"] for r in rows])
    cats = np.array([r.category for r in runs])
    assert abs(loop.target - sum(shares[c] * y[cats == c].mean() for c in shares)) < 1e-12
    assert loop.benchmark == pytest.approx(y.mean())
    assert w.weights.mean() == pytest.approx(1.0)


def test_ess_of_equal_weights_is_n():
    assert kish_ess(np.ones(17)) == 17.0
    runs, _, _ = clustered_runs({"a": (2, 0.1), "b": (2, 0.5)}, 3)
    none = compute_weighting(runs)
    assert (none.ess, none.ess_tasks, none.kind) == (12.0, 4.0, "none")
    same = compute_weighting(
        runs, target_profile_from({"by": "category", "shares": {"a": 1, "b": 1}})
    )
    assert np.allclose(same.weights, 1.0) and same.ess == pytest.approx(12.0)
    assert same.max_weight_share == pytest.approx(1 / 12)


def test_uncovered_mass_and_clipping_are_recorded():
    runs, _, _ = clustered_runs({"a": (3, 0.1), "b": (1, 0.5)}, 2)
    profile = target_profile_from({"by": "category", "shares": {"a": 0.2, "b": 0.6, "z": 0.2}})
    w = compute_weighting(runs, profile)
    assert w.uncovered_mass == pytest.approx(0.2)
    # P̃ = (0.25, 0.75); Q = (0.75, 0.25): weights 1/3 and 3
    assert sorted(set(np.round(w.weights, 12))) == [pytest.approx(1 / 3), 3.0]
    clipped = compute_weighting(runs, profile, clip=2.0)
    assert clipped.weights.max() == 2.0 and clipped.n_clipped == 2 and clipped.clip == 2.0
    with pytest.raises(ParityInputError, match="no mass on any benchmark task"):
        compute_weighting(runs, target_profile_from({"by": "category", "shares": {"z": 1}}))


@pytest.mark.extra("agents")
def test_target_texts_clusters_and_uncovered_texts():
    runs = runs_from_records(generate_runs("baseline")).runs
    profile = load_target_profile(example_path("target"))
    w = compute_weighting(runs, profile, rng=0)
    assert w.k == 4 and w.kind == "texts"
    # every cluster is one kind of task
    kinds = {c.cluster: {t.split("-")[0] for t in c.example_tasks} for c in w.clusters}
    assert all(len(v) == 1 for v in kinds.values())
    assert w.uncovered_mass == pytest.approx(3 / 24)
    assert len(w.uncovered_texts) == 3 and "poem" in w.uncovered_texts[1]
    assert sum(c.target_share for c in w.clusters) == pytest.approx(21 / 24)
    by_cluster = compute_weighting(runs, target_profile_from({"shares": {"0": 1, "3": 1}}))
    assert by_cluster.k == 4 and by_cluster.k_selection == "from the target shares"
    shares = {c.cluster: c.target_share for c in by_cluster.clusters}
    assert shares == {"0": 0.5, "1": 0.0, "2": 0.0, "3": 0.5}


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({}, r"either `shares`"),
        ({"texts": []}, r"`texts` must be a non-empty list"),
        ({"texts": ["a", 3]}, r"`texts\[1\]` must be a non-empty string; got 3"),
        ({"shares": {"0": 0}}, r"must not all be 0"),
        ({"shares": {"a": 1}, "by": "colour"}, r"`by` must be one of cluster, category"),
    ],
)
def test_bad_target_profiles(obj, match):
    with pytest.raises(ParityInputError, match=match):
        target_profile_from(obj, "target.json")


@pytest.mark.extra("agents")
def test_cluster_shares_must_be_numbers(tmp_path):
    runs = runs_from_records(generate_runs("baseline")).runs
    with pytest.raises(ParityInputError, match=r'keyed by cluster numbers.*got "code"'):
        compute_weighting(runs, target_profile_from({"shares": {"code": 1}}))
    path = write(tmp_path, "t.json", "{oops")
    with pytest.raises(ParityInputError, match=r"t\.json: not valid JSON"):
        load_target_profile(path)


def test_task_bootstrap_interval_covers_the_target_value():
    """Coverage sanity: tasks with random success probabilities in 3 categories, 3 trials
    each; the 95% interval of the reweighted success rate covers the target value
    Σ P(c)·m_c in about 95% of 120 replicates."""
    means = {"a": 0.2, "b": 0.5, "c": 0.8}
    shares = {"a": 0.5, "b": 0.3, "c": 0.2}
    truth = sum(shares[c] * means[c] for c in means)
    profile = target_profile_from({"by": "category", "shares": shares})
    g = np.random.default_rng(123)
    hits = 0
    reps = 120
    for _ in range(reps):
        runs, rows, task_of_run = [], [], []
        q = 0
        for cat, n_tasks in (("a", 8), ("b", 10), ("c", 12)):
            for p in g.beta(4 * means[cat], 4 * (1 - means[cat]), size=n_tasks):
                for trial in range(3):
                    runs.append(make_run(f"{q}#{trial}", str(q), [], trial=trial, category=cat))
                    rows.append({"success": float(g.random() < p)})
                    task_of_run.append(q)
                q += 1
        w = compute_weighting(runs, profile)
        (est,) = weighted_estimates(rows, [{}] * q, w, task_of_run, n_resamples=400, rng=g)
        hits += est.target_ci[0] <= truth <= est.target_ci[1]
    assert 0.85 <= hits / reps <= 1.0


# --------------------------------------------------------------------------------------------
# the shipped example, analysis and compare


def test_shipped_example_files_match_the_generator(tmp_path):
    written = write_examples(tmp_path)
    for key in EXAMPLE_FILES:
        assert written[key].read_bytes() == example_path(key).read_bytes(), key


@pytest.mark.extra("agents")
def test_analysis_of_the_example_finds_the_injected_behaviours():
    raw = generate_runs("baseline")
    res = analyze_runs(runs_from_records(raw), n_resamples=200)
    for row, run in zip(res.runs, raw, strict=True):
        meta = run["metadata"]
        if meta["injected"] == "loop":
            assert (row["loop"], row["loop_start"], row["loop_period"]) == (
                True, meta["loop_start"], meta["loop_period"],
            )  # fmt: skip
        elif meta["injected"] == "stall":
            assert row["stall"] and not row["loop"]
            assert row["longest_stall"] == meta["stall_steps"]
            assert row["laminarity"] > 0.8 and row["determinism"] == 0.0
        elif meta["injected"] == "no_tools":
            assert row["degenerate"] and row["degenerate_reason"] == "1 step"
        else:
            assert not row["loop"] and not row["stall"] and not row["degenerate"]
    assert res.weighting.kind == "none"
    loop = next(e for e in res.estimates if e.metric == "loop")
    assert loop.benchmark == pytest.approx(4 / 35) and loop.target is None
    assert loop.benchmark_ci[0] < loop.benchmark < loop.benchmark_ci[1]


@pytest.fixture(scope="module")
def baseline():
    return runs_from_records(generate_runs("baseline"), label="old")


@pytest.fixture(scope="module")
def same_comparison(baseline):
    return compare_agents(baseline, baseline, n_resamples=99, n_bootstrap=50)


@pytest.mark.extra("agents")
def test_compare_detects_more_loops_and_nothing_on_identical_agents(baseline, same_comparison):
    new = runs_from_records(generate_runs("regressed"), label="new")
    res = compare_agents(baseline, new, n_resamples=499, n_bootstrap=100)
    assert res.verdict == "changed" and res.exit_code == 1
    assert "loop" in res.changed and "degenerate" not in res.changed
    assert any(r.startswith("loop rate rose from 11% (4/35 runs) to 54%") for r in res.reasons)
    same = same_comparison
    assert (same.verdict, same.exit_code, same.changed) == ("unchanged", 0, ())
    assert all(m.pvalue == 1.0 for m in same.metrics)


@pytest.mark.extra("agents")
def test_compare_takes_an_int_seed_or_a_generator(baseline, same_comparison):
    assert same_comparison.seed == 0 and same_comparison.to_dict()["seed"] == 0
    new = runs_from_records(generate_runs("regressed"), label="new")
    opts = {"n_resamples": 99, "n_bootstrap": 50}
    first = compare_agents(baseline, new, rng=np.random.default_rng(1), **opts)
    again = compare_agents(baseline, new, rng=np.random.default_rng(1), **opts)
    assert first.seed is None and first.to_dict() == again.to_dict()
    analysis = analyze_runs(baseline, n_resamples=50, rng=np.random.default_rng(2))
    assert analysis.seed is None


@pytest.mark.extra("agents")
def test_compare_leaves_untestable_metrics_out():
    one = runs_from_records([chat_run("t", 0, calls=[("a", {}), ("b", {})])], label="one")
    res = compare_agents(one, one, n_resamples=99, n_bootstrap=50)
    assert res.verdict == "inconclusive" and res.exit_code == 3
    assert all(m.note and m.note.startswith("not tested") for m in res.metrics)


@pytest.mark.extra("agents")
def test_analysis_payloads_are_strict_json(baseline):
    target = load_target_profile(example_path("target"))
    files = analysis_payloads(analyze_runs(baseline, target=target, n_resamples=200), {}, {})
    assert sorted(files) == [
        "pairs.json", "report.html", "runs.csv", "runs.json", "summary.json", "tasks.csv",
        "tasks.json",
    ]  # fmt: skip
    summary = json.loads(files["summary.json"], parse_constant=lambda c: pytest.fail(c))
    assert summary["counts"]["loops"] == 4 and summary["weighting"]["k"] == 4
    assert files["runs.csv"].splitlines()[0].startswith("run_id,task_id,trial,variant,success")
    assert "<svg" in files["report.html"] and "<script" not in files["report.html"]
    # a missing value is an empty cell; NaN is nan (as in JSON); the text "nan" stays text
    rows = [{"x": float("nan"), "y": True}, {"x": None, "y": "nan"}]
    assert csv_text(rows, ["x", "y"]) == "x,y\nnan,True\n,nan\n"


@pytest.mark.extra("agents")
def test_comparison_payloads(same_comparison):
    files = comparison_payloads(same_comparison, {"old": {"path": "a"}})
    record = json.loads(files["compare.json"])
    assert record["verdict"] == "unchanged" and record["exit_code"] == 0
    assert files["compare.csv"].startswith("metric,kind,description,n_old,n_new")
    # the headline says the result's own word (as compare.json does), in the pass colour
    assert (
        ">unchanged</span>" in files["report.html"] and ">pass</span>" not in files["report.html"]
    )
