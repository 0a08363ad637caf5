"""What each swept setting buys: the plain-language answer to "does adding X pay, here?".

For every setting that varies across grid points, points that differ only in that setting are paired,
lowest value against highest, and the throughput ratio is summarised as one sentence, e.g.
"Raising num_env_runners from 0 to 1 gives 0.71x the throughput (median of 3 comparisons): it does
not pay here."
"""

from __future__ import annotations

import statistics

import pandas as pd

PAYS, COSTS = 1.10, 0.95  # ratios beyond which a change clearly pays, or clearly costs


def _ordered(values: list) -> tuple[list, bool]:
    """The values in order, and whether they are numbers (so 'raising' one means something)."""
    try:
        return sorted(values, key=float), True
    except (TypeError, ValueError):
        return sorted(values, key=str), False


def effect_of(setting: str, table: pd.DataFrame) -> str | None:
    """One sentence for `setting`, or None when no two points differ in it alone."""
    values, numeric = _ordered(table[setting].dropna().unique().tolist())
    if len(values) < 2:
        return None
    low, high = values[0], values[-1]
    others = [c for c in table.columns if c not in (setting, "env_steps_per_s")]
    ratios = []
    for _, group in table.groupby(others, dropna=False) if others else [(None, table)]:
        rates = group.set_index(setting)["env_steps_per_s"]
        if low in rates.index and high in rates.index:
            ratios.append(float(rates[high] / rates[low]))
    if not ratios:
        return None
    ratio = statistics.median(ratios)
    verdict = ("it pays here" if ratio >= PAYS else "it does not pay here" if ratio < COSTS
               else "it makes little difference here")
    spread = f", from {min(ratios):.2f}x to {max(ratios):.2f}x" if len(ratios) > 1 else ""
    verb = "Raising" if numeric else "Changing"
    return (f"{verb} {setting} from {low} to {high} gives {ratio:.2f}x the throughput (median of "
            f"{len(ratios)} comparison(s){spread}): {verdict}.")


def setting_effects(summary: pd.DataFrame, grid: list[str]) -> list[str]:
    """A sentence per swept setting (a column of the summary each), in grid order."""
    table = summary[[*grid, "env_steps_per_s"]].dropna(subset=["env_steps_per_s"])
    sentences = (effect_of(setting, table) for setting in grid)
    return [s for s in sentences if s]
