"""custlens: customer intelligence from order logs.

The public API is imported lazily so that ``import custlens`` stays cheap and has no side effects.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load": ("custlens.io.load", "load"),
    "ReadOptions": ("custlens.io.options", "ReadOptions"),
    "clean": ("custlens.io.clean", "clean"),
    "customer_table": ("custlens.features.rfm", "customer_table"),
    "score_rfm": ("custlens.segment.rfm_segments", "score_rfm"),
    "run": ("custlens.pipeline", "run"),
    "Settings": ("custlens.config", "Settings"),
    "CustlensError": ("custlens.errors", "CustlensError"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(import_module(module), attr)
    if name == "datasets":
        return import_module("custlens.datasets")
    raise AttributeError(f"module 'custlens' has no attribute {name!r}")
