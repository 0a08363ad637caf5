"""The harness-tax suite arm: a real `scaling_study.sweep.run_sweep` of an experiment file.

    python -m bench.suite_point bench/specs/harness_tax.yaml STORAGE_DIR

Writes STORAGE_DIR/<name>/ (a standard Tune directory of the suite); the bench reads its result rows.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from scaling_study.spec import load_spec
    from scaling_study.sweep import SweepOptions, run_sweep

    experiment, storage = (argv if argv is not None else sys.argv[1:])[:2]
    exp_dir = run_sweep(load_spec(experiment), SweepOptions(storage_path=storage), argv=["bench.suite_point", experiment])
    print(f"BENCH_RESULT_DIR {exp_dir}", flush=True)


if __name__ == "__main__":
    main()
