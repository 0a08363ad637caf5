"""Trial names and directory names that say what each trial ran: `runners=2_envs=4_rep0_3f2a1_00003`.

Built from the grid point's swept settings (the `point` label of the trial's params), its repeat, and
Tune's trial id, which keeps names unique across resumed sessions. They stay ordinary Tune trial
directories: Tune, TensorBoard and `ray.tune.ExperimentAnalysis` read them as before.
"""

from __future__ import annotations

import re

from scaling_study.core.settings import short_pairs

UNSAFE = re.compile(r"[^A-Za-z0-9=._-]+")
MAX_SETTINGS_CHARS = 120  # file names stop at 255 bytes; Tune adds nothing to a creator's name


def settings_words(config: dict) -> str:
    """'num_env_runners=2, num_envs_per_env_runner=4' (the point label) -> 'runners=2_envs=4'."""
    words = [f"{key}={value}" for key, value in short_pairs(config.get("point"))]
    text = UNSAFE.sub("-", "_".join(words))[:MAX_SETTINGS_CHARS]
    return text or f"trial{config.get('trial_index', '')}"


class TrialNames:
    """Tune's trial_name_creator and trial_dirname_creator. Tune calls them before it resolves the
    `sample_from` values of a trial's config (they are placeholders then); only the grid's trial index
    is known, so the names are looked up in the whole grid's params. A class, so tuner.pkl pickles it."""

    def __init__(self, params: list[dict]):
        self.names = [f"{settings_words(p)}_rep{p.get('repeat', 0)}" for p in params]

    def name(self, trial) -> str:
        """What Tune prints for the trial: its settings and repeat."""
        index = trial.config.get("trial_index")
        return self.names[index] if isinstance(index, int) and 0 <= index < len(self.names) else "trial"

    def dirname(self, trial) -> str:
        """The trial's directory: its name, then Tune's trial id (unique across sessions of the experiment)."""
        return f"{self.name(trial)}_{trial.trial_id}"
