"""Import an object named in langgraph.json: "./file.py:attr" (relative to the config's
folder, whatever the working directory) or "package.module:attr"."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from waypost.errors import ConfigError


def load_object(ref: str, base: Path, what: str, module_name: str) -> Any:
    """`what` names the object in errors ("graph 'agent'"); a file is imported as
    `module_name`, so two config entries never share a module by accident."""
    target, sep, attr = ref.rpartition(":")
    if not sep or not target or not attr:
        raise ConfigError(f'{what}: expected "./file.py:attr", got {ref!r}')
    try:
        if target.endswith(".py") or "/" in target:
            file = (base / target).resolve()
            if not file.is_file():
                raise ConfigError(f"{what}: file not found: {file}")
            spec = importlib.util.spec_from_file_location(module_name, file)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except ConfigError:
        raise
    except Exception as exc:  # any import-time failure is the user's code
        raise ConfigError(f"{what} ({ref}) failed to import: {type(exc).__name__}: {exc}") from None
    if not hasattr(module, attr):
        raise ConfigError(f"{what}: {target} has no attribute {attr!r}")
    return getattr(module, attr)
