"""What the user got wrong. The command line prints the message as one line and exits 2, no traceback."""

from __future__ import annotations


class UserMistake(ValueError):
    """Base of the mistakes below; its message is the one line the user sees."""


class SpecError(UserMistake):
    """A mistake in an experiment file: the message names the file and the key."""


class UsageError(UserMistake):
    """A mistake on the command line or in its surroundings: conflicting flags, a storage path that
    cannot hold results, results of another experiment in the way, a cluster that cannot be joined."""


class TrialsNoLongerFit(Exception):
    """Not a mistake: after a node loss, no pending trial fits on the nodes left (run/retries.py). The
    command line prints the message as one line and exits 1, as for errored trials."""
