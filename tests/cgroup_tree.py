"""Fake OS files for core/cores.py: write a file under a temporary root, and count the cores granted there."""

from __future__ import annotations

from scaling_study.core.cores import granted_cores


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def grant(root, affinity=None, environ=None, cpu_count=8):
    return granted_cores(root, affinity=lambda: affinity, environ=environ or {}, cpu_count=cpu_count)
