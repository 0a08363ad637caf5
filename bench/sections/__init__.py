"""The benchmarks, one module each: a docstring (what it measures, the goal), `TITLE` and
`run(ctx: Context) -> Outcome`. ORDER is the order of BENCHMARKS.md's sections."""

ORDER = ("harness_tax", "sweep_efficiency", "distance_to_limit", "course", "analysis_speed", "model_check",
         "time_to_answer", "warm_cold", "node_exclusive", "best_setting", "baselines")
