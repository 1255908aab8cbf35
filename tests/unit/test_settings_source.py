"""The environment is read in one place: ``adjudicator/settings.py``.

Every other module of ``adjudicator`` and ``api`` gets its settings passed
down from a composition root (``Settings.from_env``). Read from the source
with ``ast``: any use of ``os.environ`` or ``os.getenv`` elsewhere fails,
except an assignment to one variable (``serve`` hands gunicorn's forks their
metrics directory).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "adjudicator").rglob("*.py"), *(ROOT / "api").rglob("*.py")])
ALLOWED = {ROOT / "adjudicator" / "settings.py"}


def environment_reads(source: str) -> list[int]:
    """Line numbers where ``source`` reads ``os.environ`` or calls ``os.getenv``."""
    tree = ast.parse(source)
    written = {
        id(target.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Subscript)
    }
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ("environ", "getenv", "environb")
            and id(node) not in written
        ):
            found.append(node.lineno)
    return sorted(found)


def test_the_finder_sees_reads_and_lets_a_write_pass() -> None:
    source = "import os\nx = os.environ.get('A')\ny = os.getenv('B')\nos.environ['C'] = 'c'\n"
    assert environment_reads(source) == [2, 3]


def test_only_the_settings_module_reads_the_environment() -> None:
    assert len(SOURCES) > 100
    readers = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in SOURCES
        if path not in ALLOWED
        for line in environment_reads(path.read_text(encoding="utf-8"))
    }
    assert readers == set()
