"""Package namespaces whose names load with their module on first use (PEP 562).

A package that re-exports its modules' names imports all of them, and their libraries (NumPy,
SQLAlchemy, FAISS), as soon as any one of its modules is imported. With :func:`lazy_exports`
the package lists where each name lives and imports that module only when the name is asked
for, so a light module of the package (``faceatlas.store.summary``) costs only itself. The
package still imports the names under ``TYPE_CHECKING`` for the type checker.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, homes: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose names live in the modules
    ``homes`` maps them from (``{"faceatlas.store.catalog": ("Catalog",)}``)."""
    module_of = {name: module for module, names in homes.items() for name in names}
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later lookups skip this hook
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *module_of})

    return __getattr__, __dir__
