"""Envs of your own: the modules that register them, imported in the driver and in every Ray worker.

An experiment names them in two ways, which may be combined:

    env:
      id: "my_envs.corridor:Corridor-v0"   # gymnasium's module:EnvId (gymnasium.make imports the module)
      import: [my_envs.extra]              # modules imported first, for envs registered as a side effect

In the driver, before Ray starts, each module is imported with the current directory importable (as
`python -m` would have it), so a mistake costs one line. In Ray's workers, the trial's env creator
imports them again (`envs.make_env`); to make them importable there, modules that live outside the
installed packages (your own code, not a pip-installed package) are shipped with the job's
`runtime_env` as `py_modules`: Ray uploads the top-level package (or single-file module) once and every
worker, on this machine or on any node of a cluster, imports it from Ray's copy. Installed packages are
expected to be installed on every node, like the suite itself.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import sysconfig
from pathlib import Path
from types import ModuleType
from typing import Any

MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class EnvImportError(ValueError):
    """A module that cannot be imported or an env id it did not register; the message is one line."""


def registered_name(env_id: str) -> str:
    """The name gymnasium's registry holds: 'pkg.mod:Corridor-v0' -> 'Corridor-v0'."""
    return env_id.split(":", 1)[1] if ":" in env_id else env_id


def modules_to_import(env_id: str, imports: list[str]) -> list[str]:
    """The `import:` modules, then the module named in a 'module:EnvId' id, each once."""
    modules = list(imports)
    if ":" in env_id:
        modules.append(env_id.split(":", 1)[0])
    return list(dict.fromkeys(modules))


def check_module_names(imports: Any) -> list[str]:
    """`env.import` as a list of dotted module names; EnvImportError otherwise."""
    if isinstance(imports, str):
        imports = [imports]
    if not isinstance(imports, list) or not all(isinstance(m, str) and MODULE_NAME.match(m) for m in imports):
        raise EnvImportError(f"expected a list of Python module names such as [my_envs.corridor], got {imports!r}")
    return imports


def import_in_driver(modules: list[str]) -> list[ModuleType]:
    """Import each module here, the current directory importable; EnvImportError names the first that fails."""
    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:
        sys.path.insert(0, here)
    imported = []
    for name in modules:
        try:
            imported.append(importlib.import_module(name))
        except ModuleNotFoundError as err:
            raise EnvImportError(
                f"cannot import {name!r} ({err}); expected a module importable from the current directory "
                f"({here}) or installed in this Python"
            ) from None
        except Exception as err:  # the user's module raised while registering: show its first line
            raise EnvImportError(f"importing {name!r} failed: {type(err).__name__}: {err}".splitlines()[0]) from None
    return imported


def import_in_worker(modules: list[str]) -> None:
    """Import the modules in a Ray worker (they register their envs on import)."""
    for name in modules:
        importlib.import_module(name)


def shipped_paths(modules: list[ModuleType]) -> list[str]:
    """The top-level package directory (or single-file module) of each module that is your own code:
    not in the standard library or an installed package. These go to runtime_env py_modules."""
    installed = {Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths = []
    for module in modules:
        top = sys.modules[module.__name__.split(".")[0]]
        location = _location(top)
        if location is None or any(location.is_relative_to(root) for root in installed):
            continue
        paths.append(str(location))
    return list(dict.fromkeys(paths))


def _location(module: ModuleType) -> Path | None:
    search = list(getattr(module, "__path__", []) or [])
    if len(search) == 1:
        return Path(search[0]).resolve()
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file and not search else None


def runtime_env(modules: list[ModuleType]) -> dict[str, Any] | None:
    """The job's runtime_env that makes your own env modules importable in every Ray worker."""
    paths = shipped_paths(modules)
    return {"py_modules": paths} if paths else None
