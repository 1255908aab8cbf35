"""The decision core stays pure: an import guard over every module of adjudicator/.

- no module of the package imports Flask or the ``api`` package (the service
  wraps the core, never the other way round);
- the decision path (``adjudicator/core/`` and the tools over it in
  ``adjudicator/analysis/``, and the package's own ``__init__``) imports
  neither SQLAlchemy, Alembic nor Flask;
- ``adjudicator/core/engine.py`` is the only module importing durable-rules.

Imports are read from the source with ``ast`` (also those inside functions and
``importlib.import_module("...")`` calls with a literal name), so nothing is
executed and a lazy import cannot hide.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "adjudicator"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def imported_roots(source: str) -> set[str]:
    """Top-level names of every absolute import in ``source``."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    roots.add(first.value.split(".")[0])
    return roots


IMPORTS = {_rel(path): imported_roots(path.read_text(encoding="utf-8")) for path in MODULES}


def _is_service_side(name: str) -> bool:
    core = ("adjudicator/core/", "adjudicator/analysis/", "adjudicator/__init__.py")
    return not name.startswith(core)


def test_the_guard_sees_the_package() -> None:
    assert "adjudicator/core/engine.py" in IMPORTS
    assert "adjudicator/core/decide.py" in IMPORTS
    assert len(IMPORTS) >= 15


def test_the_guard_reads_every_kind_of_import() -> None:
    source = (
        "import flask.json\n"
        "from api.app import create\n"
        "from . import sibling\n"
        "def later():\n"
        "    import sqlalchemy as sa\n"
        "    importlib.import_module('alembic.command')\n"
    )
    assert imported_roots(source) == {"flask", "api", "sqlalchemy", "alembic"}


@pytest.mark.parametrize("module", sorted(IMPORTS))
def test_no_module_imports_flask_or_api(module: str) -> None:
    found = IMPORTS[module] & {"flask", "flask_smorest", "api"}
    assert not found, f"{module} imports {sorted(found)}"


@pytest.mark.parametrize("module", sorted(m for m in IMPORTS if not _is_service_side(m)))
def test_decision_path_has_no_database_or_web(module: str) -> None:
    found = IMPORTS[module] & {"sqlalchemy", "alembic", "flask", "psycopg", "gunicorn"}
    assert not found, f"{module} is on the decision path but imports {sorted(found)}"


def test_only_the_engine_adapter_imports_durable_rules() -> None:
    users = sorted(m for m, roots in IMPORTS.items() if roots & {"durable", "durable_rules_engine"})
    assert users == ["adjudicator/core/engine.py"]
