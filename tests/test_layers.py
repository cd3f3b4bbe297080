"""Package layering: diff/ and classify/ are peers that share only the model, and model/ is the bottom.

Read from the source with `ast` (every import statement, including those inside functions and
TYPE_CHECKING blocks), so an import that would only run on some code path still counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cfgwatch"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module an import statement in source names (relative imports resolved, `from x import y` as x.y)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _imports_of(package: str) -> dict[str, set[str]]:
    return {
        _module_name(path): imported_modules(
            path.read_text(encoding="utf-8"), _module_name(path), is_package=path.name == "__init__.py"
        )
        for path in sorted((PACKAGE / package).rglob("*.py"))
    }


def _offending(package: str, forbidden: str) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in _imports_of(package).items()
        for name in names
        if name == forbidden or name.startswith(forbidden + ".")
    )


@pytest.mark.parametrize(("package", "forbidden"), [("diff", "cfgwatch.classify"), ("classify", "cfgwatch.diff")])
def test_diff_and_classify_do_not_import_each_other(package: str, forbidden: str) -> None:
    assert _offending(package, forbidden) == []


def test_model_imports_nothing_else_from_cfgwatch() -> None:
    outside = sorted(
        f"{module} imports {name}"
        for module, names in _imports_of("model").items()
        for name in names
        if name.startswith("cfgwatch.") and not name.startswith("cfgwatch.model")
    )
    assert outside == []


def test_import_reader_sees_relative_and_nested_imports() -> None:
    """The checks above are only as good as the reader: it must see every import form."""
    imports = _imports_of("diff")
    assert "cfgwatch.model.space" in imports["cfgwatch.diff.engine"]
    assert "cfgwatch.diff.keys" in imports["cfgwatch.diff.engine"]  # `from cfgwatch.diff import keys`

    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..classify import networks\n"
        "def f() -> None:\n    import cfgwatch.classify.categories\n    from . import keys\n"
    )
    found = imported_modules(source, "cfgwatch.diff.engine")
    assert {"cfgwatch.classify.networks", "cfgwatch.classify.categories", "cfgwatch.diff.keys"} <= found
    assert "cfgwatch.model" in imported_modules("from .. import model", "cfgwatch.diff", is_package=True)
