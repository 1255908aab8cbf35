"""``adjudicator audit ...`` and ``db backup``: the audit log for operators and auditors.

- ``audit verify [--checkpoint FILE [--key KEY]] [--file EXPORT]``: the chain,
  the rows it covers and, given a checkpoint kept elsewhere, whether the log
  was cut below it or rewritten under it; ``--file`` checks an export with no
  database.
- ``audit checkpoint``: sign one now and print the note.
- ``audit key``: print the verifier (public) key.
- ``audit verify-receipt FILE [--key KEY]``: check an inclusion receipt offline.
- ``audit export --format ndjson|csv [--from] [--to]``: stream entries out.
- ``db backup FILE``: SQLite's online backup.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any, TextIO

import click
import orjson

from adjudicator.audit.backup import BackupRefused, backup
from adjudicator.audit.checkpoint_note import Checkpoint, NoteError, Verifier, open_checkpoint
from adjudicator.audit.checkpoints import ChainUnsound, check_checkpoint, make_checkpoint
from adjudicator.audit.log import CSV_COLUMNS, csv_row, export_bounds, iter_entries
from adjudicator.audit.receipts import export_against, verify_export, verify_receipt
from adjudicator.audit.signing import KEY_FILE_ENV, AuditSettings, SigningKeyError
from adjudicator.cli import context
from adjudicator.db.errors import InvalidRequest
from adjudicator.verification import verify_audit


def _settings() -> AuditSettings:
    try:
        return context.settings().audit
    except (SigningKeyError, NoteError) as exc:
        raise click.ClickException(str(exc)) from exc


def _trusted_key(key: str | None) -> Verifier | None:
    """``--key``: a verifier key, or a file holding one."""
    if key is None:
        return None
    text = Path(key).read_text(encoding="utf-8") if Path(key).is_file() else key
    try:
        return Verifier.parse(text)
    except NoteError as exc:
        raise click.ClickException(f"--key: {exc}") from exc


def _local_key(url: str) -> Verifier:
    """The verifier of this deployment's own signing key (never made here)."""
    settings = _settings()
    if settings.key_file is None or not settings.key_file.exists():
        raise click.ClickException(
            f"no signing key here ({KEY_FILE_ENV}): pass --key with the published verifier key"
        )
    try:
        return settings.signer().verifier
    except SigningKeyError as exc:
        raise click.ClickException(str(exc)) from exc


def _open(note_file: Path, verifier: Verifier) -> Checkpoint:
    try:
        return open_checkpoint(note_file.read_text(encoding="utf-8"), verifier)
    except NoteError as exc:
        raise click.ClickException(f"the checkpoint {note_file} does not verify: {exc}") from exc


def _finish(ok: bool, lines: list[str], payload: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps(payload))
    else:
        for line in lines:
            click.echo(line)
    sys.exit(0 if ok else 1)


@click.group("audit")
def audit_group() -> None:
    """The audit log: verify, checkpoint, export, receipts."""


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A signed checkpoint kept elsewhere: the log must still hold its tree.",
)
@click.option("--key", help="The verifier key (or a file with it) that signed the checkpoint.")
@click.option(
    "--file",
    "export_file",
    type=click.File("rb"),
    help="Verify this NDJSON export instead of the database (no database needed).",
)
def audit_verify_command(
    as_json: bool, checkpoint_file: Path | None, key: str | None, export_file: Any
) -> None:
    """Walk the hash chain; exit 0 when it holds, 1 naming the first bad entry.

    With --checkpoint, also exit 1 when the log was cut below that checkpoint
    or rewritten under it. Without --key, the checkpoint is checked with this
    deployment's own signing key.
    """
    if export_file is not None:
        _verify_file(export_file, checkpoint_file, key, as_json)
        return
    with context.store(migrate=False) as store:
        report = verify_audit(store)
        kept = None
        if checkpoint_file is not None:
            url = context.config().database_url
            verifier = _trusted_key(key) or _local_key(url)
            kept = check_checkpoint(store, _open(checkpoint_file, verifier))
    payload = report.to_dict()
    lines = []
    if report.broken is None:
        lines.append(f"ok: {report.entries} entries, head {report.head_seq} {report.head_hash}")
    else:
        bad = report.broken
        lines.append(f"broken at entry {bad.seq}: {bad.problem}: {bad.detail}")
    if kept is not None:
        payload["checkpoint"] = kept.to_dict()
        state = "ok" if kept.ok else f"{kept.problem}"
        lines.append(f"checkpoint {kept.checkpoint.size}: {state}: {kept.detail}")
        payload["ok"] = report.ok and kept.ok
    _finish(bool(payload["ok"]), lines, payload, as_json)


@audit_group.command("checkpoint")
def audit_checkpoint_command() -> None:
    """Sign a checkpoint of the whole log now; print the signed note on standard output."""
    signer = _settings().signer()
    with context.store(migrate=False) as store:
        try:
            made = make_checkpoint(store, signer)
        except ChainUnsound as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"checkpoint {made.id}: {made.tree_size} entries", err=True)
    click.echo(made.note, nl=False)


@audit_group.command("key")
def audit_key_command() -> None:
    """Print the verifier key of the checkpoint signing key (made on first use)."""
    try:
        click.echo(_settings().signer().verifier.encode())
    except SigningKeyError as exc:
        raise click.ClickException(str(exc)) from exc


@audit_group.command("verify-receipt")
@click.argument("receipt_file", type=click.File("rb"))
@click.option("--key", help="The published verifier key (or a file with it).")
def audit_verify_receipt_command(receipt_file: Any, key: str | None) -> None:
    """Check an inclusion receipt offline: exit 0 when it proves its entry is in the log."""
    try:
        receipt = orjson.loads(receipt_file.read())
    except orjson.JSONDecodeError as exc:
        raise click.ClickException(f"not JSON: {exc}") from exc
    if not isinstance(receipt, dict):
        raise click.ClickException("a receipt is a JSON object")
    report = verify_receipt(receipt, _trusted_key(key))
    if report.key_from_receipt:
        click.echo(
            "note: checked with the key the receipt carries; pass --key with the "
            "log's published verifier key to prove it is the log's",
            err=True,
        )
    if report.problem is not None:
        click.echo(f"receipt of entry {report.seq} does not hold: {report.problem}")
        sys.exit(1)
    click.echo(f"ok: entry {report.seq} is in the log the checkpoint signed")


@audit_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["ndjson", "csv"]), default="ndjson")
@click.option("--from", "since", help="First entry: a seq, or an ISO 8601 time (inclusive).")
@click.option("--to", "until", help="Last entry: a seq (inclusive) or an ISO time (exclusive).")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-")
def audit_export_command(fmt: str, since: str | None, until: str | None, output: TextIO) -> None:
    """Stream audit entries out, oldest first, as NDJSON or CSV."""
    with context.store(migrate=False) as store:
        try:
            first, last = export_bounds(store, since, until)
        except InvalidRequest as exc:
            messages = [f"--{name}: {' '.join(m)}" for name, m in exc.errors.items()]
            raise click.BadParameter("; ".join(messages)) from exc
        write_export(output, iter_entries(store, first=first, last=last), fmt)


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def db_backup_command(target: Path) -> None:
    """Copy the SQLite database to TARGET while it serves (PostgreSQL: pg_dump)."""
    with context.store(migrate=False) as store:
        try:
            pages = backup(store, target)
        except BackupRefused as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"backed up {pages} pages to {target}", err=True)


def write_export(output: TextIO, entries: Any, fmt: str) -> None:
    """Write ``entries`` as NDJSON lines or CSV (header first)."""
    if fmt == "csv":
        writer = csv.writer(output, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for entry in entries:
            writer.writerow(csv_row(entry))
        return
    for entry in entries:
        output.write(orjson.dumps(entry.to_dict()).decode() + "\n")


def _verify_file(export: Any, checkpoint_file: Path | None, key: str | None, as_json: bool) -> None:
    report = verify_export(export)
    lines, problem = [], report.problem
    if problem is None and checkpoint_file is not None:
        verifier = _trusted_key(key)
        if verifier is None:
            raise click.ClickException("--file with --checkpoint needs --key (no database here)")
        problem = export_against(report, _open(checkpoint_file, verifier))
    if problem is None:
        span = "" if report.first_seq is None else f" (entries {report.first_seq}..)"
        lines.append(f"ok: {report.entries} entries{span}, last hash {report.last_hash}")
        if report.first_seq not in (None, 1):
            lines.append("note: the first entry's prev_hash was taken on trust")
    else:
        lines.append(f"export does not hold: {problem}")
    payload = {"ok": problem is None, "entries": report.entries, "problem": problem}
    _finish(problem is None, lines, payload, as_json)
