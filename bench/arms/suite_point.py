"""The suite as a library: `scaling_study.run.sweep.run_sweep` of an experiment file, with the SweepOptions
the CLI does not offer (the harness-tax suite arm).

    python -m bench.arms.suite_point bench/specs/harness_tax.yaml STORAGE_DIR [--reuse-actors]

Writes STORAGE_DIR/<name>/ (a standard Tune directory of the suite); the bench reads its result rows.
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment")
    parser.add_argument("storage")
    parser.add_argument("--reuse-actors", action="store_true", help="Tune's reuse_actors=True (default False)")
    args = parser.parse_args(argv)
    from scaling_study.core.spec import load_spec
    from scaling_study.run.sweep import SweepOptions, run_sweep

    options = SweepOptions(storage_path=args.storage, reuse_actors=args.reuse_actors)
    exp_dir = run_sweep(load_spec(args.experiment), options, argv=["bench.arms.suite_point", args.experiment])
    print(f"BENCH_RESULT_DIR {exp_dir}", flush=True)


if __name__ == "__main__":
    main()
