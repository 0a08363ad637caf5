"""The reading half: Tune experiment directories -> tables, statistics, figures and a report.

Never imports the running half of scaling_study and never starts Ray, so it can analyse any Tune
directory of RLlib trials on any machine. Entry point: `command.analyze_command(results_dir, out_dir)`.
"""
