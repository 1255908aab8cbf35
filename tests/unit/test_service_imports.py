"""The capabilities and the service commands load without Flask; the core without SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys

PROBE = (
    "import sys, {modules}; "
    "print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & {{{banned}}})))"
)


def _loaded(modules: str, banned: set[str]) -> str:
    code = PROBE.format(modules=modules, banned=", ".join(repr(b) for b in banned))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_capabilities_and_cli_load_without_flask() -> None:
    banned = {"flask", "flask_smorest", "werkzeug", "api"}
    capabilities = "adjudicator.tables, adjudicator.claims.service, adjudicator.audit.log"
    assert _loaded(f"{capabilities}, adjudicator.cli, adjudicator.cli.service", banned) == ""


def test_the_decision_core_loads_without_the_database() -> None:
    banned = {"sqlalchemy", "alembic", "psycopg", "flask", "gunicorn"}
    assert _loaded("adjudicator, adjudicator.core.decide", banned) == ""
