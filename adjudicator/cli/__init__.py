"""The ``adjudicator`` command line: one click group, commands in small modules.

The core commands (``decide``, ``regress``, ``rules``) live in
:mod:`adjudicator.cli.core`; the service commands (``serve``, ``db``,
``keys``, ``audit``) in :mod:`adjudicator.cli.service`.
"""

from __future__ import annotations

import click

from adjudicator.cli import ruletools as _ruletools  # noqa: F401 - rules check/doc/mutate
from adjudicator.cli.core import decide_command, regress_command, rules_group


@click.group()
@click.version_option(package_name="adjudicator")
def main() -> None:
    """Adjudicate Trade Assurance claims with the durable-rules ruleset."""


main.add_command(decide_command)
main.add_command(regress_command)
main.add_command(rules_group)

try:  # the service commands arrive with the service; the core works without them
    from adjudicator.cli.service import register as _register_service
except ImportError:  # pragma: no cover - only while the service is not installed
    pass
else:
    _register_service(main)
