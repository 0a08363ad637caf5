"""Benchmark 4, the course reproduced: experiments/course.yaml against the course's own figures
(5 PPO iterations on FrozenLake: 2 rollout workers x 2 envs 8.6 s, 1 x 1 13.6 s, a ratio of 1.58)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.harness import sweeps
from bench.harness.context import Context, KeyFigure, Outcome
from bench.harness.experiments import EXPERIMENTS, relative, shrunk
from bench.harness.report import table
from scaling_study.core.settings import default_of

TITLE = "The course, reproduced"

SPEC = EXPERIMENTS / "course.yaml"
COURSE_SECONDS = {(1, 1): 13.6, (2, 2): 8.6}
PPO_SETTINGS = ("train_batch_size_per_learner", "num_epochs", "minibatch_size")


def per_trial(exp_dir: Path) -> pd.DataFrame:
    """A row per trial: its (runners, envs), seconds of all its iterations, setup, and the per-iteration
    medians of the sample and learn phases."""
    rows = []
    for trial in sweeps.trials(exp_dir):
        s = pd.DataFrame([r["scaling"] for r in trial.rows])
        rows.append({"point": (trial.params["num_env_runners"], trial.params["num_envs_per_env_runner"]),
                     "seconds": s["iter_s"].sum(), "setup_s": s["setup_s"].iloc[0], "sample_s": s["sample_s"].median(),
                     "learn_s": s["learn_s"].median(), "iterations": len(s)})
    return pd.DataFrame(rows)


def ppo_settings(exp_dir: Path) -> dict[str, int]:
    """Batch, epochs and minibatch the trials ran with: params.json, else PPO's defaults (the course's)."""
    params = sweeps.trials(exp_dir)[0].params
    return {key: int(params.get(key) or default_of(key)) for key in PPO_SETTINGS}


def why_text(median: dict, ppo: dict[str, int]) -> str:
    s11, s22 = median[(1, 1)]["sample_s"], median[(2, 2)]["sample_s"]
    l11, l22 = median[(1, 1)]["learn_s"], median[(2, 2)]["learn_s"]
    batch, epochs, minibatch = ppo["train_batch_size_per_learner"], ppo["num_epochs"], ppo["minibatch_size"]
    learn_share = l22 / (l22 + s22)
    bound = ("so this machine is learner-bound (notes/ray-2.60.md) and the ratio of whole iterations stays "
             "well below the sampling speed-up" if learn_share >= 0.5 else
             "so here sampling still dominates and the ratio of whole iterations follows the sampling speed-up")
    ours_per_iteration = median[(2, 2)]["seconds"] / median[(2, 2)]["iterations"]
    course_per_iteration = COURSE_SECONDS[(2, 2)] / 5
    return (
        f"Why. Every iteration samples {batch} env steps, then runs {epochs} epochs of SGD over them in "
        f"minibatches of {minibatch} (about {epochs * round(batch / minibatch)} gradient steps). Two runners x "
        f"two envs shorten the sampling, {s11:.2f} -> {s22:.2f} s per iteration ({s11 / s22:.2f}x), but not the "
        f"learner update ({l11:.2f} s at 1 x 1, {l22:.2f} s at 2 x 2), which runs in the main process alone "
        f"whatever the runners. At 2 x 2 the update "
        f"is {learn_share:.0%} of each iteration, {bound}; were learning free the ratio would approach "
        f"{s11 / s22:.2f}. The update alone caps the throughput at about {batch} / {l22:.2f} = "
        f"{batch / l22:,.0f} env steps/s whatever the runners. 2 x 2 also oversubscribes: 3 logical CPUs "
        f"(main process and 2 runners) on 2 cores. The course does not say what its server had (it ran the "
        f"old API stack); it took {course_per_iteration:.1f} s per 2 x 2 iteration where this machine takes "
        f"{ours_per_iteration:.1f} s, so on its machine the learner's fixed cost weighed "
        f"{'less' if ours_per_iteration > course_per_iteration else 'no more'} than here, leaving more of each "
        f"iteration to the sampling that rollout workers speed up."
    )


def run(ctx: Context) -> Outcome:
    spec = SPEC if not ctx.quick else shrunk(SPEC, ctx.work / "specs", iterations=1, repeats=1,
                                                    fixed={"train_batch_size_per_learner": 1000, "num_epochs": 3})
    # warm processes, the CLI's default: a trial's timed iterations come after its build either way
    sweep = sweeps.suite_sweep(spec, ctx.work / "course-results", ctx.work / "course-sweep.log", reuse_actors=True)
    trials = per_trial(sweep.exp_dir)
    median = trials.groupby("point").median().to_dict("index")
    each = trials.groupby("point")["seconds"].apply(list)
    rows = [[f"{r} x {e}", "; ".join(f"{s:.1f}" for s in each[(r, e)]), f"{m['seconds']:.1f}",
             f"{COURSE_SECONDS.get((r, e), float('nan')):.1f}", f"{m['setup_s']:.1f}", f"{m['sample_s']:.2f}",
             f"{m['learn_s']:.2f}"] for (r, e), m in sorted(median.items())]
    ours = median[(1, 1)]["seconds"] / median[(2, 2)]["seconds"]
    course_ratio = COURSE_SECONDS[(1, 1)] / COURSE_SECONDS[(2, 2)]
    iterations = int(median[(1, 1)]["iterations"])
    ppo = ppo_settings(sweep.exp_dir)
    body = "\n\n".join([
        f"{relative(spec)}: train batch {ppo['train_batch_size_per_learner']}, {ppo['num_epochs']} epochs, "
        f"minibatch {ppo['minibatch_size']} (PPO's defaults, as in the course, unless --quick), fcnet [32, 32]; "
        f"{iterations} iterations timed after the build, as the course timed them: the sum of scaling/iter_s "
        f"(equal to Tune's time_total_s here). Local Ray with 3 logical CPUs on 2 cores, as the file says.",
        table(["env runners x envs", f"our s for {iterations} iterations (each repeat)", "median", "course s",
               "build s", "sample s / iteration", "learn s / iteration"], rows, align_right=(2, 3, 4, 5, 6)),
        f"**Ratio 1 x 1 / 2 x 2: ours {ours:.2f}, the course's {course_ratio:.2f}.**",
        why_text(median, ppo),
    ])
    commands = ["python -m bench --only course", f"scaling-study sweep {relative(spec)} --storage-path TMP --no-analyze"]
    figure = KeyFigure(f"course: {iterations} iterations 1 x 1 / 2 x 2 (course 13.6 / 8.6 s = {course_ratio:.2f})",
                       f"{median[(1, 1)]['seconds']:.1f} / {median[(2, 2)]['seconds']:.1f} s = {ours:.2f}")
    return Outcome(body, [figure], commands)
