"""The report's first screen: one sentence with the fastest setting, its gains over the smallest setting
and over RLlib's default, the throughput figure and the PPOConfig to copy. Hand-built summaries, the
gains worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scaling_study.analysis.findings import fastest_and_runner_up
from scaling_study.analysis.report import lead_blocks, reference_row, to_html, to_markdown


def summary(rows):
    frame = pd.DataFrame(rows, columns=["point", "num_env_runners", "num_envs_per_env_runner", "env_steps_per_s",
                                        "cores"])
    frame["env_steps_per_s_ci_low"] = frame["env_steps_per_s_ci_high"] = float("nan")
    frame["seeds"] = 2
    frame["baseline"] = frame.index == 0
    return frame


class Found:
    def __init__(self, frame):
        self.fastest, self.runner_up, self.distinguishable = fastest_and_runner_up(frame)


def test_the_sentence_names_the_fastest_and_both_gains():
    frame = summary([["r0e4", 0, 4, 2000.0, 2], ["r2e1", 2, 1, 1000.0, 2], ["r2e16", 2, 16, 8000.0, 2]])
    blocks = lead_blocks(frame, Found(frame), {}, {"preamble": "import x", "points": {"r2e16": "config = 1"}})
    sentence = blocks[0][1]
    assert "The fastest setting measured on this machine (2 cores per trial) is r2e16: 8,000 env steps/s" in sentence
    assert "4.00x the smallest setting (r0e4, 2,000 env steps/s)" in sentence  # 8,000 / 2,000
    assert "8.00x RLlib's default (r2e1, 1,000 env steps/s)" in sentence      # 8,000 / 1,000
    assert ("code", "import x\n\nconfig = 1\n") in blocks


def test_without_the_reference_the_sentence_says_so_and_without_configs_there_is_nothing_to_copy():
    frame = summary([["r0e4", 0, 4, 2000.0, 2], ["r1e4", 1, 4, 3000.0, 2]])
    blocks = lead_blocks(frame, Found(frame), {}, {})
    assert "RLlib's default (2 env runners x 1 env each) was not measured" in blocks[0][1]
    assert "1.50x the smallest setting" in blocks[0][1]
    assert not any(kind == "code" for kind, *_ in blocks)
    assert reference_row(frame) is None


def test_the_code_block_is_escaped_in_html_and_fenced_in_markdown():
    blocks = [("code", "config = (PPOConfig().env_runners(num_env_runners=2) < 3)\n")]
    assert "<pre><code>config = (PPOConfig().env_runners(num_env_runners=2) &lt; 3)" in to_html(blocks, "t")
    assert to_markdown(blocks).startswith("```python\nconfig = (PPOConfig()")


def test_the_figure_leads_when_written(tmp_path):
    frame = summary([["r0e4", 0, 4, 2000.0, 2]])
    png = Path(tmp_path) / "throughput_vs_runners.png"
    blocks = lead_blocks(frame, Found(frame), {"throughput_vs_runners": png}, {})
    assert blocks[1][0] == "figure" and blocks[1][2] == png
