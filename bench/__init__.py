"""Benchmarks of scaling-study: what the suite costs, against a bare RLlib loop and a plain Tune script,
how close it gets to the limit, and how soon it answers.

    python -m bench --list     the sections
    python -m bench            the full run; writes BENCHMARKS.md
    python -m bench --quick    tiny budgets, to check the harness
    python -m bench --only harness_tax --only analysis_speed

Layout: sections/ holds one module per section of BENCHMARKS.md (its docstring, TITLE and run(ctx) ->
Outcome, with the measurement it alone uses); harness/ the scaffolding they share (context, subprocess
runner, sweeps, experiment copies, A/B alternation, the Markdown writer); arms/ the programs a section
runs as processes of their own (a bare RLlib loop, a plain Tune script, one suite point, the step-cost
measurement). Every Ray run happens in a subprocess with a RAY_TMPDIR of its own, so this process never
imports Ray and nothing is left running afterwards. Comparisons alternate their two arms and report medians.
"""
