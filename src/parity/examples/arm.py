"""A small deterministic simulation for the demo: a stochastic policy driving a 2-link arm.

The policy commands joint positions (radians) of a planar 2-link arm reaching a random target
configuration: each step it commands a fraction ``gain`` of the remaining joint error plus
Gaussian exploration noise, and the joints follow the command with a first-order lag. Its
"optimized" variants run the same policy with its arithmetic changed, as an inference
optimization would:

* ``faithful``: computed in float16 (a change far below the policy's own noise);
* ``broken``: int8 quantization of the commanded positions with a per-tensor scale of
  2π/256 rad, a zero-point off by half a step, and an overshooting gain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DT = 0.05  # seconds between control steps
HORIZON = 60  # steps per episode
LAG = 0.5  # fraction of the command the joints reach each step
TARGET_LOW = np.array([0.6, 0.8])
TARGET_HIGH = np.array([1.0, 1.2])


@dataclass(frozen=True)
class ArmPolicy:
    """A stochastic reaching policy; ``quant_step`` > 0 rounds commands to that grid."""

    gain: float = 0.15
    noise: float = 0.01
    dtype: str = "float64"
    quant_step: float = 0.0
    quant_offset: float = 0.0

    def act(self, q: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Commanded joint positions for joint states ``q`` (k × 2) and targets (k × 2)."""
        dt = np.dtype(self.dtype)
        q_, t_ = q.astype(dt), target.astype(dt)
        command = (q_ + dt.type(self.gain) * (t_ - q_)).astype(np.float64)
        command += self.noise * rng.standard_normal(q.shape)
        if self.quant_step > 0:
            command = np.round(command / self.quant_step) * self.quant_step + self.quant_offset
        return command


REFERENCE = ArmPolicy()
VARIANTS = {
    "faithful": ArmPolicy(dtype="float16"),
    "broken": ArmPolicy(gain=0.2, quant_step=2 * np.pi / 256, quant_offset=np.pi / 256),
}


def rollouts(policy: ArmPolicy, n_episodes: int, rng: np.random.Generator) -> np.ndarray:
    """Commanded joint positions of ``n_episodes`` episodes, shape (n_episodes × HORIZON × 2)."""
    targets = rng.uniform(TARGET_LOW, TARGET_HIGH, size=(n_episodes, 2))
    q = np.zeros((n_episodes, 2))
    actions = np.empty((n_episodes, HORIZON, 2))
    for t in range(HORIZON):
        actions[:, t] = policy.act(q, targets, rng)
        q = q + LAG * (actions[:, t] - q)
    return actions


def action_samples(policy: ArmPolicy, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` independent actions: one uniformly chosen step from each of ``n`` fresh episodes."""
    episodes = rollouts(policy, n, rng)
    steps = rng.integers(0, HORIZON, size=n)
    return episodes[np.arange(n), steps]


def simulate(
    rng: int | np.random.Generator | None = 0, n_actions: int = 400, n_episodes: int = 200
) -> dict[str, np.ndarray]:
    """Action samples and rollouts of the reference policy and of each variant.

    Returns arrays named ``{name}_actions`` (n_actions × 2) and ``{name}_rollouts``
    (n_episodes × HORIZON × 2) for ``reference`` and each name in :data:`VARIANTS`; every policy
    draws from its own stream of ``rng`` (an int seed's ``SeedSequence`` children, or a
    Generator's spawned children).

    Examples
    --------
    >>> data = simulate(rng=0, n_actions=10, n_episodes=3)
    >>> data["broken_rollouts"].shape
    (3, 60, 2)
    """
    policies = {"reference": REFERENCE, **VARIANTS}
    if isinstance(rng, np.random.Generator):
        streams = rng.spawn(len(policies))
    else:
        streams = [
            np.random.default_rng(s) for s in np.random.SeedSequence(rng).spawn(len(policies))
        ]
    data = {}
    for (name, policy), gen in zip(policies.items(), streams, strict=True):
        data[f"{name}_actions"] = action_samples(policy, n_actions, gen)
        data[f"{name}_rollouts"] = rollouts(policy, n_episodes, gen)
    return data
