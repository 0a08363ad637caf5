"""`scaling-study sweep | analyze | predict | calibrate | validate`: the command line.

Exit status: 0 done; 1 a sweep ran but some trial errored; 2 a user mistake (one line on stderr, never a
traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys

from scaling_study.core.errors import TrialsNoLongerFit, UsageError, UserMistake
from scaling_study.core.options import SweepOptions, add_options, options_from, positive_int

TRIALS_ERRORED = 1
USAGE_ERROR = 2
INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line (not usage + error) and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"scaling-study: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(USAGE_ERROR)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _version() -> str:
    from importlib.metadata import version

    return f"scaling-study {version('scaling-study')} (ray {version('ray')}, torch {version('torch')})"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scaling-study", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sweep = commands.add_parser("sweep", help="run an experiment file as a Ray Tune sweep")
    sweep.add_argument("experiment", help="experiment YAML, e.g. experiments/frozenlake.yaml")
    add_options(sweep, SweepOptions)  # one flag per field of SweepOptions (core/options.py)
    sweep.add_argument("--no-analyze", action="store_true", help="skip writing the report at the end")

    analyze = commands.add_parser("analyze", help="figures, tables and a report from a Tune experiment directory")
    analyze.add_argument("results_dir", help="a Tune experiment directory, e.g. results/frozenlake")
    analyze.add_argument("--out", help="output directory (default: reports/<experiment name>)")
    analyze.add_argument("--predicted", metavar="CSV",
                         help="predictions to show beside the measurements (scaling-study predict --csv)")

    predict = commands.add_parser(
        "predict", help="what the iteration model fitted to RESULTS expects on more CPUs or a cluster (not measured)")
    predict.add_argument("results_dir", help="a Tune experiment directory, e.g. results/frozenlake")
    predict.add_argument("--cpus", type=_positive_float, help="CPUs of one machine, e.g. 8")
    predict.add_argument("--nodes", type=positive_int, help="nodes of a cluster (with --cpus-per-node)")
    predict.add_argument("--cpus-per-node", type=_positive_float, help="CPUs of each node (with --nodes)")
    predict.add_argument("--experiment", metavar="FILE",
                         help="predict every grid point of this experiment file (default machine: the one measured)")
    predict.add_argument("--csv", metavar="OUT", help="with --experiment: write the predictions to this CSV")

    calibrate = commands.add_parser("calibrate", help="raw env steps/s on one core of each node (the physical limit)")
    calibrate.add_argument("--env", default="FrozenLake-v1", help="gymnasium env id (default: FrozenLake-v1)")
    calibrate.add_argument("--seconds", type=_positive_float, default=1.0, help="seconds per node (default: 1)")
    calibrate.add_argument("--address", default=os.environ.get("RAY_ADDRESS") or None)

    validate = commands.add_parser("validate", help="check experiment files without running them")
    validate.add_argument("experiments", nargs="+")
    validate.add_argument("--show-config", action="store_true",
                          help="print each grid point's config (PPOConfig, APPOConfig, ...) as copyable Python (without importing Ray)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from scaling_study.run.sweep import SweepInterrupted

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserMistake as err:  # SpecError (the experiment file) or UsageError (the command line)
        print(f"scaling-study: {err}", file=sys.stderr)
        return USAGE_ERROR
    except TrialsNoLongerFit as lost:  # a node was lost and what is left cannot hold a trial
        print(f"scaling-study: {lost}", file=sys.stderr)
        return TRIALS_ERRORED
    except SweepInterrupted as stop:
        print(f"Interrupted. {stop.finished} of {stop.total} trials finished and are kept; "
              f"{_resume_hint(argv)}", file=sys.stderr)
        return INTERRUPTED
    except KeyboardInterrupt:
        hint = f"; {_resume_hint(argv)}" if args.command == "sweep" else ""
        print(f"Interrupted{hint}", file=sys.stderr)
        return INTERRUPTED


def _resume_hint(argv: list[str] | None) -> str:
    """The command that resumes: the same one, less --restart (which would throw the results away)."""
    import shlex

    words = [w for w in (sys.argv[1:] if argv is None else argv) if w != "--restart"]
    return "run the same command again to resume: " + shlex.join(["scaling-study", *words])


def _sweep(args: argparse.Namespace) -> int:
    from scaling_study.core.spec import load_spec
    from scaling_study.run.sweep import run_sweep

    spec = load_spec(args.experiment)
    options = options_from(SweepOptions, args)
    if options.address and options.num_cpus:
        raise UsageError("--num-cpus starts a local Ray with that many CPUs; it cannot be combined with --address")
    exp_dir = run_sweep(spec, options, argv=["scaling-study", *sys.argv[1:]])
    status = 0
    if not args.no_analyze:
        from scaling_study.analysis.command import analyze_command

        status = analyze_command(str(exp_dir), None)
    return _errored_status(exp_dir) or status


def _errored_status(exp_dir) -> int:
    """A sweep whose trials errored did not answer its question: say so last, and exit 1."""
    from scaling_study.run.sweep import trial_counts

    finished, errored = trial_counts(exp_dir)
    if not errored:
        return 0
    sys.stdout.flush()  # the count must come last, after the report's lines
    print(f"scaling-study: {errored} of {finished + errored} trials errored (see error.txt in their trial "
          f"directories under {exp_dir})", file=sys.stderr)
    return TRIALS_ERRORED


def _analyze(args: argparse.Namespace) -> int:
    from scaling_study.analysis.command import analyze_command

    return analyze_command(args.results_dir, args.out, args.predicted)


def _predict(args: argparse.Namespace) -> int:
    from scaling_study.analysis.predict import Machine, predict_command

    if args.cpus and (args.nodes or args.cpus_per_node):
        raise UsageError("predict: give either --cpus N (one machine) or --nodes K --cpus-per-node C (a cluster)")
    if args.csv and not args.experiment:
        raise UsageError("predict: --csv writes the predictions of --experiment FILE's grid; give --experiment too")
    machine = None
    if args.cpus:
        machine = Machine(1, args.cpus)
    elif args.nodes and args.cpus_per_node:
        machine = Machine(args.nodes, args.cpus_per_node)
    elif args.nodes or args.cpus_per_node or not args.experiment:
        raise UsageError("predict: expected --cpus N, or --nodes K with --cpus-per-node C")
    if args.experiment:
        from scaling_study.analysis.predict_grid import predict_grid_command

        return predict_grid_command(args.results_dir, args.experiment, machine, args.csv)
    return predict_command(args.results_dir, machine)


def _calibrate(args: argparse.Namespace) -> int:
    import json

    import ray

    from scaling_study.core.spec import check_env_id
    from scaling_study.run.calibrate import calibrate

    check_env_id(args.env, "--env")
    if args.address:
        from scaling_study.run.cluster import preflight

        preflight(args.address)  # fails in seconds with one line, where ray.init may hang for minutes
        ray.init(address=args.address, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        result = calibrate({"id": args.env}, seconds=args.seconds)
    finally:
        ray.shutdown()
    for node in result["nodes"]:
        print(f"{node['hostname']} ({node['node_ip']}, {node['cpu_model']}): {node['steps_per_s']:,.0f} env steps/s on one core")
    print(json.dumps(result))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from scaling_study.core.cores import granted_cores
    from scaling_study.core.resources import local_cpus
    from scaling_study.core.spec import grid_points, load_spec
    from scaling_study.run.sweep import check_envs  # not check_configs: validate runs without Ray

    cores = granted_cores()
    for warning in cores.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for path in args.experiments:
        spec = load_spec(path)
        cpus = local_cpus(spec.num_cpus)
        check_envs(spec, cpus)
        points = len(grid_points(spec, cpus, cores.granted))
        repeats = f"{spec.repeats} repeat(s)" if spec.first_seeds is None else f"up to {spec.repeats} seeds"
        print(f"{path}: ok ({spec.name}: {points} grid points x {repeats} on "
              f"{cores.describe()}, a local Ray of {cpus:g} CPU{'' if cpus == 1 else 's'})")
        if args.show_config:
            print(_show_config(spec, cpus, cores.granted))
    return 0


def _show_config(spec, cpus: float, cores: int) -> str:
    """The config each grid point's first repeat builds, as one Python script."""
    from scaling_study.core.spec import trial_params
    from scaling_study.run.config_calls import algorithm_of, as_python, preamble

    firsts = [p for p in trial_params(spec, cpus, cores) if p["repeat"] == 0]
    blocks = [f"# {spec.name}: the config of each grid point (repeat r sets debugging(seed={spec.seed} + r))",
              preamble(sorted({algorithm_of(p) for p in firsts}))]
    for number, params in enumerate(firsts, start=1):
        blocks.append(f"# {params['point']}\n{as_python(params, f'point_{number}')}")
    return "\n\n".join(blocks) + "\n"


COMMANDS = {"sweep": _sweep, "analyze": _analyze, "predict": _predict, "calibrate": _calibrate, "validate": _validate}


if __name__ == "__main__":
    sys.exit(main())
