"""Checking what the log hands out, with no database: receipts and exports.

A receipt (``GET /v1/audit/entries/{seq}/proof``) is ::

    {"entry": {...}, "leaf_index": seq - 1, "tree_size": n,
     "audit_path": [base64 hashes, bottom up], "checkpoint": "<signed note>",
     "verifier_key": "<name>+<id>+<key>"}

It holds when the checkpoint's signature verifies with the trusted key, the
entry's own hash is sha256(prev_hash + its canonical bytes), and the audit
path leads from its leaf to the signed root (RFC 9162 2.1.3.2). An export is
NDJSON of entries (the same objects); it holds when every entry's hash is
right and each links to the one before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from adjudicator.audit.chain import json_entry_bytes
from adjudicator.audit.checkpoint_note import Checkpoint, NoteError, Verifier, open_checkpoint
from adjudicator.audit.merkle import Tree, leaf_hash, root_from_inclusion
from adjudicator.audit.models import GENESIS_HASH


@dataclass(frozen=True, slots=True)
class ReceiptReport:
    """Whether a receipt holds; ``problem`` names the first thing that does not."""

    seq: int | None
    problem: str | None
    key_from_receipt: bool

    @property
    def ok(self) -> bool:
        """True when the receipt proves its entry is in the signed log."""
        return self.problem is None


def verify_receipt(receipt: Mapping[str, Any], trusted: Verifier | None = None) -> ReceiptReport:
    """Check ``receipt`` against ``trusted`` (else the key it carries, which proves less)."""
    seq: int | None = None
    try:
        entry = receipt["entry"]
        seq = entry["seq"]
        verifier = trusted or Verifier.parse(receipt["verifier_key"])
        checkpoint = open_checkpoint(receipt["checkpoint"], verifier)
        data = json_entry_bytes(entry)
        path = [base64.b64decode(step, validate=True) for step in receipt["audit_path"]]
        index, size = receipt["leaf_index"], receipt["tree_size"]
    except NoteError as exc:
        return ReceiptReport(seq, f"the checkpoint does not verify: {exc}", trusted is None)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        return ReceiptReport(seq, f"the receipt is malformed: {exc!r}", trusted is None)
    own = hashlib.sha256(str(entry.get("prev_hash")).encode() + data).hexdigest()
    problem = None
    if own != entry.get("hash"):
        problem = "the entry does not match its own hash"
    elif index != seq - 1 or size != checkpoint.size:
        problem = "the leaf index or tree size does not match the entry and the checkpoint"
    elif root_from_inclusion(index, size, leaf_hash(data), path) != checkpoint.root:
        problem = "the audit path does not lead from the entry to the checkpoint's root"
    return ReceiptReport(seq, problem, trusted is None)


@dataclass(slots=True)
class ExportReport:
    """The result of checking an export: entries read, the first problem, the tree."""

    entries: int = 0
    first_seq: int | None = None
    last_hash: str = GENESIS_HASH
    problem: str | None = None
    tree: Tree = field(default_factory=Tree)

    @property
    def ok(self) -> bool:
        """True when every entry holds and links to the one before."""
        return self.problem is None


def verify_export(lines: Iterable[bytes | str]) -> ExportReport:
    """Check an NDJSON export line by line (one entry each, in seq order).

    An export from entry 1 is checked from the genesis hash and its Merkle
    tree built (to compare with a checkpoint); one that starts later is
    checked from its first entry's ``prev_hash``, taken on trust.
    """
    report = ExportReport()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
            data = json_entry_bytes(entry)
            seq, prev, digest = entry["seq"], entry["prev_hash"], entry["hash"]
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            report.problem = f"line {number} is not an audit entry: {exc!r}"
            return report
        if report.first_seq is None:
            report.first_seq = seq
            report.last_hash = prev if seq != 1 else GENESIS_HASH
        expected = report.first_seq + report.entries
        if seq != expected:
            report.problem = f"entry {expected} is missing (line {number} holds entry {seq})"
            return report
        if prev != report.last_hash:
            report.problem = f"entry {seq} does not link to entry {seq - 1}"
            return report
        if hashlib.sha256(prev.encode() + data).hexdigest() != digest:
            report.problem = f"entry {seq} does not match its hash"
            return report
        if report.first_seq == 1:
            report.tree.append(data)
        report.entries += 1
        report.last_hash = digest
    return report


def export_against(report: ExportReport, checkpoint: Checkpoint) -> str | None:
    """What is wrong with a verified export from entry 1 against ``checkpoint``, or None."""
    if report.first_seq not in (1, None):
        return "the export does not start at entry 1: it cannot be compared with a checkpoint"
    if report.tree.size < checkpoint.size:
        return (
            f"the export was cut below the checkpoint: it holds {report.tree.size} entries, "
            f"the checkpoint signed {checkpoint.size}"
        )
    if report.tree.root(checkpoint.size) != checkpoint.root:
        return f"entries 1..{checkpoint.size} of the export do not hash to the checkpoint's root"
    return None
