"""`scaling-study analyze RESULTS_DIR [--out DIR] [--predicted CSV]`: the whole reading half behind one function."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .figures import write_figures
from .findings import find
from .load import NothingToAnalyse, load_experiment
from .meta import describe_run
from .overlap_check import add_overlap_errors, overlap_checks, overlap_sentences
from .predict import add_predictions, model_sentences, self_check
from .predict_grid import BadPredictions, beside_measured, matching_keys, read_predictions
from .report import trials_table, write_report
from .summary import add_waterfall_columns, build_summary

EXIT_OK = 0
EXIT_NOTHING = 2


def default_out_dir(results_dir: Path) -> Path:
    """reports/<experiment-dir-name>, relative to the current directory."""
    return Path("reports") / results_dir.resolve().name


def analyze_command(results_dir: str, out_dir: str | None, predicted: str | None = None) -> int:
    """Analyse a Tune experiment directory into out_dir; return the exit code (0 ok, 2 nothing to analyse).
    `predicted`: a CSV of `scaling-study predict --experiment FILE --csv OUT`, shown beside the measurements.

    Progress goes to stdout, warnings and errors to stderr, one line each; no traceback for bad input.
    """
    started = time.perf_counter()
    source = Path(results_dir)
    try:
        experiment = load_experiment(source)
    except NothingToAnalyse as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_NOTHING
    if experiment.iterations["warmup"].all():
        print(f"error: {source}: no measured iterations (every iteration is warmup or has no throughput)",
              file=sys.stderr)
        return EXIT_NOTHING
    try:
        predictions = read_predictions(predicted) if predicted else None
        if predictions is not None:
            matching_keys(predictions, experiment.grid, predicted)
    except BadPredictions as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_NOTHING
    target = Path(out_dir) if out_dir else default_out_dir(source)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"error: cannot create output directory {target}: {error.strerror}", file=sys.stderr)
        return EXIT_NOTHING
    print(f"loaded {experiment.trials['skipped'].isna().sum()} trial(s), {len(experiment.iterations)} "
          f"iteration(s) from {source}")
    calibration = experiment.calibration or {}
    summary = build_summary(experiment.iterations, experiment.trials, calibration.get("steps_per_s_per_core"),
                            grid=experiment.grid, pruned=experiment.pruned)
    summary = add_waterfall_columns(summary, experiment.iterations, experiment.trials,
                                    calibration.get("sampler_ceilings"))
    check = self_check(experiment, summary)
    summary = add_predictions(summary, check)
    overlap = overlap_checks(summary)
    summary = add_overlap_errors(summary, overlap)
    beside = None
    if predictions is not None:
        try:
            summary, beside = beside_measured(summary, predictions, experiment.grid, predicted)
        except BadPredictions as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_NOTHING
    findings = find(experiment, summary)
    findings.model = model_sentences(check, summary) + overlap_sentences(overlap) + ([beside] if beside else [])
    for warning in findings.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    info = describe_run(experiment)
    trials = trials_table(experiment.trials, experiment.iterations, experiment.grid)
    figures = write_figures(experiment.iterations, trials, summary, experiment.grid, findings, target, info.stamp,
                            check)
    print(f"wrote {len(figures)} figure(s), summary.csv, trials.csv, report.md to {target}")
    report = write_report(target, info, source, summary, trials, findings, figures, experiment.calibration,
                          experiment.pruned, experiment.explored, experiment.configs, experiment.seeded)
    print(f"analysed in {time.perf_counter() - started:.1f} s; report:")
    print(report)
    return EXIT_OK
