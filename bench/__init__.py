"""Benchmarks of scaling-study: what the suite costs, against a bare RLlib loop and a plain Tune script,
and how close it gets to the limit (GitHub issue 7).

    python -m bench            the full run (about 25 minutes on 2 cores); writes BENCHMARKS.md
    python -m bench --quick    tiny budgets, to check the harness (2-3 minutes)
    python -m bench --only harness_tax --only analysis_speed

Every Ray run happens in a subprocess with a RAY_TMPDIR of its own, so this process never imports Ray
and nothing is left running afterwards. Comparisons alternate their two arms and report medians.
"""
