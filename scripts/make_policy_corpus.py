"""Make the real policy corpus in ``tests/data/policy/``: a SAC policy trained with
stable-baselines3 on the MuJoCo robot arm Gymnasium ``Reacher-v5``, and five deployed copies of it.

What it writes (every array float32; ``tests/test_acceptance_policy.py`` reads them)
-------------------------------------------------------------------------------
``actor.npz``
    The trained actor's weights (stable-baselines3 ``Actor`` state dict, float32; 21 KB), so that
    the variants can be regenerated without retraining (``--reuse-weights``).
``observations.npy``
    (200 × 10): the fixed observations, the states the reference policy visits at every other
    step of 8 episodes (environment seeds 10000–10007, noise seed 1).
``<variant>.npz`` for each variant, with arrays
    ``by_observation`` (200 × 8 × 2): 8 actions sampled from the deployed policy on each fixed
    observation (for ``parity compare --paired-by-observation``);
    ``pooled`` (1600 × 2): the same actions as rows (for the pooled test; 1600 a side keep the
    default exact test at about 1 s, where 3200 a side take about 5 s);
    ``actions`` (200 × 50 × 2): the actions sent to the arm in 200 episodes (environment seeds
    20000–20199, the same for every variant; for ``--ref-episodes``/``--cand-episodes``);
    ``returns`` (200,): the episode returns.
``corpus.json``
    Versions, seeds, control timestep (``dt`` = 0.02 s), training time, returns, and what each
    variant is.

The variants (what a real deployment bug looks like)
----------------------------------------------------
``reference``   the trained actor, float32, sampled with noise seed 100.
``reseeded``    the same actor, another noise seed (200).                          -> must pass
``float16``     the actor's weights and activations in float16 (``actor.half()``).   -> must pass
``temperature`` the deployed sampler draws with 1.5 × the policy's standard deviation (a
                sampling temperature of 1.5 left on from an exploration config).   -> must fail
``int4``        weight-only int4 by round-to-nearest: every linear layer's weight rounded to
                4-bit symmetric integers with one scale per output channel (scale = max|w_row|
                / 7, levels −8 … 7), dequantized at run time; biases stay float32.  -> must fail
``late``        a control-loop timing bug: each action is applied one control step late (the
                loop sends the previous step's command; zero at the first step). The network is
                unchanged, so its actions on the fixed observations are plain draws of the
                reference network; only the rollouts change.                       -> must fail

Regenerate
----------
In a venv of its own (not the project's: these packages are no dependency of parity; torch may
be reused from another venv by a ``.pth`` file naming that venv's site-packages)::

    python3.11 -m venv /tmp/venv-sb3
    /tmp/venv-sb3/bin/pip install torch==2.13.0 stable-baselines3==2.9.2 \
        "gymnasium[mujoco]==1.4.0" mujoco==4.0.0 numpy==2.4.6
    /tmp/venv-sb3/bin/python scripts/make_policy_corpus.py                  # train + write
    /tmp/venv-sb3/bin/python scripts/make_policy_corpus.py --reuse-weights  # write only

Training takes about 330 s of one CPU core (it took 1527 s of wall clock here, on two cores
shared ~10 ways); writing the variants about 15 s.

Pinned requirements (the versions it was run with; Python 3.11.7, Linux x86-64, one CPU thread)::

    # stable-baselines3==2.9.2
    # gymnasium==1.4.0
    # mujoco==4.0.0
    # torch==2.13.0+cpu
    # numpy==2.4.6

Training: SAC, ``MlpPolicy`` with ``net_arch=[64, 64]``, otherwise stable-baselines3's defaults,
seed 0, 40,000 environment steps, ``torch.set_num_threads(1)``. Training is deterministic for a
given machine and set of versions; on other hardware or versions the weights (and hence every
number) may differ, which is why ``actor.npz`` is shipped and ``--reuse-weights`` regenerates the
variants from it exactly.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np
import stable_baselines3
import torch
from stable_baselines3 import SAC
from stable_baselines3.sac.policies import LOG_STD_MAX, LOG_STD_MIN

ENV_ID = "Reacher-v5"
NET_ARCH = [64, 64]
TRAIN_SEED = 0
TRAIN_STEPS = 40_000
OBSERVATION_SEEDS = range(10_000, 10_008)  # 8 episodes × 50 steps, every other step kept
OBSERVATION_STRIDE = 2  # 200 observations
OBSERVATION_NOISE_SEED = 1
SAMPLES_PER_OBSERVATION = 8
# 200 episodes, the same for every variant. Sized so that the data can show an unchanged policy
# inside the ±10% embodied band: motion energy of the actions varies between episodes with a
# coefficient of variation of about 0.24 (measured on this policy's first 50 episodes), so the 90%
# interval of a ratio of means has half-width ≈ 1.645·√2·0.24/√n: 0.08 at n = 50 (an unchanged
# policy then straddles 1.1 often), 0.04 at n = 200.
ROLLOUT_SEEDS = range(20_000, 20_200)
TEMPERATURE = 1.5
INT4_LEVELS = (-8, 7)
VARIANTS = {
    # name: (noise seed, description)
    "reference": (100, "the trained actor, float32"),
    "reseeded": (200, "the same actor, another noise seed"),
    "float16": (300, "weights and activations in float16 (actor.half())"),
    "temperature": (400, f"sampled with {TEMPERATURE} x the policy's standard deviation"),
    "int4": (500, "weight-only int4, symmetric, one scale per output channel, every linear layer"),
    "late": (600, "each action applied one control step late (control-loop timing bug)"),
}


def make_model(env: gym.Env) -> SAC:
    """The SAC learner (its actor is what every variant deploys)."""
    return SAC(
        "MlpPolicy",
        env,
        seed=TRAIN_SEED,
        policy_kwargs={"net_arch": NET_ARCH},
        device="cpu",
        verbose=0,
    )


def train(out: Path, steps: int) -> tuple[torch.nn.Module, dict]:
    """Train SAC on the task; save the actor's weights; return (actor, {wall, cpu} seconds)."""
    env = gym.make(ENV_ID)
    model = make_model(env)
    start, cpu = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=steps)
    seconds = {"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu}
    state = {k: v.detach().cpu().numpy() for k, v in model.actor.state_dict().items()}
    np.savez_compressed(out / "actor.npz", **state)
    return model.actor.eval(), seconds


def load_actor(out: Path) -> torch.nn.Module:
    """The SAC actor with the shipped weights."""
    actor = make_model(gym.make(ENV_ID)).actor
    with np.load(out / "actor.npz") as f:
        actor.load_state_dict({k: torch.from_numpy(f[k]) for k in f.files})
    return actor.eval()


def quantize_int4(actor: torch.nn.Module) -> torch.nn.Module:
    """Weight-only int4 (round to nearest, symmetric, one scale per output channel),
    dequantized."""
    q = copy.deepcopy(actor)
    lo, hi = INT4_LEVELS
    with torch.no_grad():
        for layer in q.modules():
            if isinstance(layer, torch.nn.Linear):
                w = layer.weight
                scale = w.abs().amax(dim=1, keepdim=True) / hi
                layer.weight.copy_(torch.clamp(torch.round(w / scale), lo, hi) * scale)
    return q


class Deployed:
    """A deployed policy: an actor, the dtype it runs in, and its sampler's std multiplier."""

    def __init__(self, actor: torch.nn.Module, dtype=torch.float32, std_scale: float = 1.0):
        self.actor, self.dtype, self.log_scale = actor, dtype, math.log(std_scale)

    @torch.no_grad()
    def gaussian(self, obs: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """The Gaussian before the tanh squashing: (mean, log std) per row of ``obs``.

        Actor.get_action_dist_params, with the features cast to the deployed dtype (SB3's
        preprocessing casts observations to float32) and the sampler's std multiplier applied.
        """
        actor = self.actor
        x = actor.extract_features(torch.as_tensor(obs), actor.features_extractor)
        latent = actor.latent_pi(x.to(self.dtype))
        log_std = torch.clamp(actor.log_std(latent), LOG_STD_MIN, LOG_STD_MAX)
        return actor.mu(latent), log_std + self.log_scale

    @torch.no_grad()
    def sample(self, obs: np.ndarray) -> np.ndarray:
        """One action per row of ``obs`` (SB3's squashed Gaussian), float32."""
        mean, log_std = self.gaussian(obs)
        actions = self.actor.action_dist.actions_from_params(mean, log_std, deterministic=False)
        return actions.float().numpy()


def network_effect(policy: Deployed, reference: Deployed, observations: np.ndarray) -> dict:
    """How far the deployed Gaussian is from the reference's on the fixed observations, exactly
    (no sampling): the mean |Δ mean| in reference standard deviations, and the geometric mean
    of the std ratio, over observations and action dimensions."""
    mean, log_std = (t.double() for t in policy.gaussian(observations))
    ref_mean, ref_log_std = (t.double() for t in reference.gaussian(observations))
    shift = ((mean - ref_mean).abs() / ref_log_std.exp()).mean()
    return {
        "mean_shift_in_sd": round(float(shift), 4),
        "std_ratio": round(float((log_std - ref_log_std).mean().exp()), 4),
    }


def deploy(name: str, actor: torch.nn.Module) -> Deployed:
    if name == "float16":
        return Deployed(copy.deepcopy(actor).half(), dtype=torch.float16)
    if name == "temperature":
        return Deployed(actor, std_scale=TEMPERATURE)
    if name == "int4":
        return Deployed(quantize_int4(actor))
    return Deployed(actor)


def rollouts(policy: Deployed, seeds, noise_seed: int, late: bool = False) -> dict:
    """Episodes on the given environment seeds: the actions applied, returns, observations."""
    torch.manual_seed(noise_seed)
    env = gym.make(ENV_ID)
    actions, returns, observations = [], [], []
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        pending = np.zeros(env.action_space.shape, dtype=np.float32)
        ep_actions, total = [], 0.0
        done = False
        while not done:
            observations.append(obs)
            a = policy.sample(obs[None])[0]
            applied, pending = (pending, a) if late else (a, pending)
            obs, reward, terminated, truncated, _ = env.step(applied)
            ep_actions.append(applied)
            total += float(reward)
            done = terminated or truncated
        actions.append(ep_actions)
        returns.append(total)
    return {
        "actions": np.asarray(actions, dtype=np.float32),
        "returns": np.asarray(returns, dtype=np.float32),
        "observations": np.asarray(observations, dtype=np.float32),
    }


def sample_on(policy: Deployed, observations: np.ndarray, k: int, noise_seed: int) -> np.ndarray:
    """(observations × k × d) actions: k draws of the policy on each observation."""
    torch.manual_seed(noise_seed)
    repeated = np.repeat(observations, k, axis=0)
    return policy.sample(repeated).reshape(len(observations), k, -1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("--out", type=Path, default=root / "tests" / "data" / "policy")
    parser.add_argument(
        "--reuse-weights", action="store_true", help="Load OUT/actor.npz instead of training."
    )
    parser.add_argument("--steps", type=int, default=TRAIN_STEPS, help="Training steps.")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    info_path = args.out / "corpus.json"
    if args.reuse_weights:
        actor = load_actor(args.out)
        training = json.loads(info_path.read_text())["training"] if info_path.exists() else {}
    else:
        actor, seconds = train(args.out, args.steps)
        actor = load_actor(args.out)  # exactly what is shipped
        training = {f"{k}_seconds": round(v, 1) for k, v in seconds.items()}
        training["steps"] = args.steps
    training.update(algorithm="SAC", env=ENV_ID, net_arch=NET_ARCH, seed=TRAIN_SEED)

    reference = Deployed(actor)
    visited = rollouts(reference, OBSERVATION_SEEDS, OBSERVATION_NOISE_SEED)
    observations = visited["observations"][::OBSERVATION_STRIDE]
    np.save(args.out / "observations.npy", observations)

    summary = {}
    for name, (noise_seed, description) in VARIANTS.items():
        policy = deploy(name, actor)
        by_obs = sample_on(policy, observations, SAMPLES_PER_OBSERVATION, noise_seed)
        run = rollouts(policy, ROLLOUT_SEEDS, noise_seed + 1, late=name == "late")
        np.savez_compressed(
            args.out / f"{name}.npz",
            by_observation=by_obs,
            pooled=by_obs.reshape(-1, by_obs.shape[-1]),
            actions=run["actions"],
            returns=run["returns"],
        )
        summary[name] = {
            "description": description,
            "noise_seed": noise_seed,
            "network_effect": network_effect(policy, reference, observations),
            "mean_return": round(float(run["returns"].mean()), 3),
            "sd_return": round(float(run["returns"].std(ddof=1)), 3),
        }
        print(f"{name:12s} mean return {summary[name]['mean_return']:8.3f}", file=sys.stderr)

    env = gym.make(ENV_ID)
    info = {
        "generator": "scripts/make_policy_corpus.py",
        "versions": {
            "python": sys.version.split()[0],
            "stable-baselines3": stable_baselines3.__version__,
            "gymnasium": gym.__version__,
            "mujoco": mujoco.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "env": ENV_ID,
        "dt": float(env.unwrapped.dt),
        "episode_steps": int(env.spec.max_episode_steps),
        "action_dim": int(env.action_space.shape[0]),
        "observation_seeds": [OBSERVATION_SEEDS.start, OBSERVATION_SEEDS.stop - 1],
        "rollout_seeds": [ROLLOUT_SEEDS.start, ROLLOUT_SEEDS.stop - 1],
        "samples_per_observation": SAMPLES_PER_OBSERVATION,
        "training": training,
        "variants": summary,
    }
    info_path.write_text(json.dumps(info, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
