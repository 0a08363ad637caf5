"""The reading half: Tune experiment directories -> tables, statistics, figures and a report.

Imports only the pure modules it shares with the running half (settings, resources, rows, layout),
never imports Ray, so it can analyse any Tune directory of RLlib trials on any machine (a test holds
this). Entry point: `command.analyze_command(results_dir, out_dir)`. See docs/architecture.md.
"""
