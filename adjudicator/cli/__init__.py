"""The ``adjudicator`` command line: one click group, and the list of its commands.

Each command lives in a small module that imports :mod:`.context` (settings,
store, operator, rules) and none of its siblings; this module lists them:

- :mod:`.core`: ``decide``, ``regress``, ``rules list`` (and :mod:`.ruletools`:
  ``rules check|doc|mutate``; :mod:`.governance`: ``rules request-activation|
  approve|rollback|active``, ``replay``)
- :mod:`.service`: ``serve``, ``db upgrade``, ``keys``; :mod:`.worker`: ``worker``
- :mod:`.audit`: ``audit verify|checkpoint|key|verify-receipt|export``, ``db backup``
- :mod:`.users`: ``users``; :mod:`.money`: ``money reconcile``
"""

from __future__ import annotations

import click

from adjudicator.cli import audit, core, governance, money, ruletools, service, users, worker


@click.group()
@click.version_option(package_name="adjudicator")
def main() -> None:
    """Adjudicate Trade Assurance claims with the durable-rules ruleset."""


COMMANDS: tuple[click.Command, ...] = (
    core.decide_command,
    core.regress_command,
    core.rules_group,
    governance.replay_command,
    service.serve_command,
    service.db_group,
    service.keys_group,
    worker.worker_command,
    audit.audit_group,
    users.users_group,
    money.money_group,
)
for command in COMMANDS:
    main.add_command(command)
for command in ruletools.RULE_TOOLS + governance.RULES_COMMANDS:
    core.rules_group.add_command(command)
service.db_group.add_command(audit.db_backup_command)
