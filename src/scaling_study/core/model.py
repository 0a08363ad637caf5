"""A model of one PPO iteration, fitted to measured phase times: pure functions on plain arrays.

An iteration is sampling + learning + weight sync + the rest (metrics, bookkeeping):

- Sampling: each env runner (or the main process, with none) collects its share of the batch in
  vector steps (every env of the runner stepped once). A vector step costs CPU work - RLlib's fixed
  per-step work (one batched inference, connectors) `a`, its per-env work `b`, the env's own step when
  it computes, `q` per env for an async env's inter-process hand-over - and, for a simulator that waits
  (step_cost mode sleep), the wait plus a wake-up penalty `w` per wait (once per env in turn when
  `sync`, once for all when `async`). Runners run in parallel and share their node's cores: a vector
  step lasts CPU + wait with cores to spare (a remote env runner's CPU work `r` more than the main
  process's, where it samples with no runners), tends to runners x CPU / cores past them, and in between
  runners queue for cores (the machine-repairman queue, `shared_cores_rate`). Other work holds `busy`
  of each node's cores meanwhile (Ray's own processes; on a shared machine, other users).
- Learning: proportional to batch x epochs, whatever the runners (one local learner).
- Weight sync and the rest: a constant plus a cost per env runner.

Throughput = env steps / (sampling + learning + sync + rest). `fit` estimates the parameters with
scipy's least squares on relative errors; `predict` applies them to any setting, measured or not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import least_squares

from scaling_study.core.sampling_model import waits_per_vector_step

SAMPLE_PARAMS = ("a", "b", "q", "w", "r", "busy")
# Starting points of the sampling fit, seconds: a cheap env on RLlib 2.60 costs about 1 ms a vector
# step (notes/ray-2.60.md: 1.2 ms for one env), tens of microseconds per extra env.
SAMPLE_START = {"a": 1e-3, "b": 1e-4, "q": 1e-4, "w": 5e-4, "r": 0.1, "busy": 0.5}
MIN_FREE_CORES = 0.1  # keeps a fit that tries busy >= cores finite


@dataclass(frozen=True)
class Configuration:
    """One configuration to time: what the trial params and the machine say."""

    runners: float          # num_env_runners (0: sampling in the main process)
    envs: float             # num_envs_per_env_runner
    env_step_s: float       # one env step on one core (1 / calibrated raw steps/s)
    batch: float            # env steps per iteration
    epochs: float = 1.0     # num_epochs
    is_async: bool = False  # gym_env_vectorize_mode async: each env in its own process
    sleeps: bool = False    # step_cost mode sleep: the env step waits instead of computing
    cores: float = 2.0      # cores of the node the runners share
    nodes: float = 1.0      # nodes the runners spread over


@dataclass(frozen=True)
class Params:
    a: float = 0.0   # s of CPU per vector step (batched inference, connectors)
    b: float = 0.0   # s of CPU per env per vector step (RLlib's per-env work)
    q: float = 0.0   # s of CPU per env per vector step for async hand-over
    w: float = 0.0   # s of wake-up penalty per wait of a sleeping env
    r: float = 0.0   # extra share of CPU work in a remote env runner over sampling in the main process
    busy: float = 0.0  # cores of a node taken by other work while runners sample (Ray's own processes)
    learn: float = 0.0        # s per env step per epoch of learning
    sync0: float = 0.0        # s of weight sync per iteration
    sync_per_runner: float = 0.0
    other0: float = 0.0       # s per iteration outside the three phases
    other_per_runner: float = 0.0


def cpu_and_wait_s(s: Configuration, p: Params) -> tuple[float, float]:
    """A vector step's CPU work and its waiting (a sleeping env's wait and wake-up), in seconds."""
    waits = waits_per_vector_step(s.envs, "async" if s.is_async else "sync") if s.sleeps else 0.0
    cpu = p.a + p.b * s.envs + (p.q * s.envs if s.is_async else 0.0) + (0.0 if s.sleeps else s.env_step_s * s.envs)
    return cpu * (1.0 + p.r if s.runners >= 1 else 1.0), waits * (s.env_step_s + p.w)


def shared_cores_rate(customers: int, cores: float, cpu_s: float, wait_s: float) -> float:
    """Vector steps per second of `customers` runners sharing `cores`, each alternating `cpu_s` of CPU
    work with `wait_s` of waiting: the machine-repairman queue (a closed network of a delay and a
    station of `cores` servers), solved exactly by mean value analysis with the station's queue-length
    distribution (Reiser & Lavenberg 1980). One runner: 1 / (cpu + wait); many: at most cores / cpu,
    approached smoothly as runners queue for cores."""
    if cpu_s <= 0:
        return customers / wait_s
    servers = np.minimum(np.arange(1, customers + 1), cores)  # busy cores with j runners at the station
    queue = np.array([1.0])  # P(j runners at the station), j = 0.., for n - 1 runners
    rate = 0.0
    for n in range(1, customers + 1):
        j = np.arange(1, n + 1)
        residence = float(np.sum(j * cpu_s / servers[:n] * queue))
        rate = n / (residence + wait_s)
        served = rate * cpu_s / servers[:n] * queue
        queue = np.concatenate([[max(1.0 - served.sum(), 0.0)], served])
    return rate


def vector_step_s(s: Configuration, p: Params) -> float:
    """Seconds one runner spends on a vector step, its node's runners sharing the node's cores."""
    cpu, wait = cpu_and_wait_s(s, p)
    on_busiest_node = int(np.ceil(max(s.runners, 1.0) / s.nodes))
    free_cores = max(s.cores - p.busy, MIN_FREE_CORES)
    return on_busiest_node / shared_cores_rate(on_busiest_node, free_cores, cpu, wait)


def sample_s(s: Configuration, p: Params) -> float:
    vector_steps = s.batch / (max(s.runners, 1.0) * s.envs)
    return vector_steps * vector_step_s(s, p)


def learn_s(s: Configuration, p: Params) -> float:
    return p.learn * s.batch * s.epochs


def sync_s(s: Configuration, p: Params) -> float:
    return p.sync0 + p.sync_per_runner * s.runners


def other_s(s: Configuration, p: Params) -> float:
    return p.other0 + p.other_per_runner * s.runners


def iteration_s(s: Configuration, p: Params) -> float:
    return sample_s(s, p) + learn_s(s, p) + sync_s(s, p) + other_s(s, p)


def predicted_env_steps_per_s(s: Configuration, p: Params) -> float:
    return s.batch / iteration_s(s, p)


@dataclass(frozen=True)
class TrialPhases:
    """A measured point (medians over a trial's measured iterations, or over its seeds)."""

    configuration: Configuration
    sample_s: float
    learn_s: float
    sync_s: float
    other_s: float


def free_sample_params(settings: list[Configuration]) -> list[str]:
    """Only the sampling parameters the data can show: q needs async points, w sleeping ones, b more
    than one envs-per-runner value (else it cannot be told apart from a), r points with and without
    env runners, busy points with more runners than cores (where the cores can run short)."""
    free = ["a"]
    if len({s.envs for s in settings}) > 1 or any(s.is_async for s in settings):
        free.append("b")
    if any(s.is_async for s in settings) and any(not s.is_async for s in settings):
        free.append("q")
    if any(s.sleeps for s in settings):
        free.append("w")
    if any(s.runners == 0 for s in settings) and any(s.runners >= 1 for s in settings):
        free.append("r")
    if any(s.runners > s.cores for s in settings):
        free.append("busy")
    return free


def fit_sampling(observations: list[TrialPhases]) -> dict[str, float]:
    """a, b, q, w by least squares on log(predicted / measured) sampling seconds (relative errors, so
    a slow point does not outweigh a fast one), all >= 0."""
    settings = [o.configuration for o in observations]
    measured = np.array([o.sample_s for o in observations])
    free = free_sample_params(settings)

    def residuals(x):
        p = Params(**dict(zip(free, x, strict=True)))
        return np.log([sample_s(s, p) for s in settings]) - np.log(measured)

    start = np.array([SAMPLE_START[name] for name in free])
    result = least_squares(residuals, start, bounds=(0.0, np.inf), x_scale=start)
    return {name: float(result.x[free.index(name)]) if name in free else 0.0 for name in SAMPLE_PARAMS}


def fit_line(x, y) -> tuple[float, float]:
    """Intercept and slope of y on x by least squares, both >= 0; a constant (the median) when x does not vary."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.ptp(x) == 0:
        return max(float(np.median(y)), 0.0), 0.0
    result = least_squares(lambda c: c[0] + c[1] * x - y, [max(float(np.median(y)), 0.0), 0.0],
                           bounds=(0.0, np.inf))
    return float(result.x[0]), float(result.x[1])


def fit(observations: list[TrialPhases]) -> Params:
    """Every parameter from measured points; each phase is fitted to its own measured seconds."""
    settings = [o.configuration for o in observations]
    runners = [s.runners for s in settings]
    learn_per_step = [o.learn_s / (o.configuration.batch * o.configuration.epochs) for o in observations]
    sync0, sync_per_runner = fit_line(runners, [o.sync_s for o in observations])
    other0, other_per_runner = fit_line(runners, [o.other_s for o in observations])
    return Params(**fit_sampling(observations), learn=float(np.median(learn_per_step)), sync0=sync0,
                  sync_per_runner=sync_per_runner, other0=other0, other_per_runner=other_per_runner)


def leave_one_out(observations: list[TrialPhases]) -> np.ndarray:
    """Each point's env steps/s predicted by the model fitted to all the other points."""
    predictions = []
    for i, held_out in enumerate(observations):
        rest = observations[:i] + observations[i + 1:]
        predictions.append(predicted_env_steps_per_s(held_out.configuration, fit(rest)) if rest else np.nan)
    return np.array(predictions)


def on_machine(s: Configuration, cores: float, nodes: float = 1.0) -> Configuration:
    return replace(s, cores=cores, nodes=nodes)
