"""Signed checkpoints: the C2SP tlog-checkpoint body in a C2SP signed note, Ed25519.

A checkpoint is the note text ::

    <origin>
    <tree size, decimal>
    <base64 of the 32-byte RFC 9162 root hash>

followed by a blank line and one signature line ``— <key name> <base64(key
id || Ed25519 signature of the text)>``, the key id being
``sha256(key name || 0x0A || 0x01 || public key)[:4]``. The public key is
published as a verifier key ``<name>+<key id hex>+<base64(0x01 || public
key)>``, the form Go's ``golang.org/x/mod/sumdb/note`` and the
transparency-log tools read. Pure: no file or database here (the key file is
:mod:`adjudicator.audit.signing`'s).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
DASH = "\u2014"
_NAME = re.compile(r"[^\s+]+")
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class NoteError(ValueError):
    """A note, checkpoint or verifier key that is malformed or does not verify."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteError(f"{what} is not base64") from exc


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public: Ed25519PublicKey) -> bytes:
    """The 4-byte key id of ``name``'s Ed25519 key."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + _raw(public)).digest()[:4]


def check_name(name: str) -> str:
    """``name`` when it is a valid key name or origin (no spaces, no ``+``)."""
    if not _NAME.fullmatch(name):
        raise NoteError(f"{name!r} is not a valid key name: no spaces or '+'")
    return name


@dataclass(frozen=True, slots=True)
class Verifier:
    """A named Ed25519 public key that checks notes."""

    name: str
    public: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        """The 4-byte id signature lines carry."""
        return key_id(self.name, self.public)

    def encode(self) -> str:
        """The verifier key string: ``<name>+<key id hex>+<base64(0x01 || key)>``."""
        return f"{self.name}+{self.key_id.hex()}+{_b64(ED25519 + _raw(self.public))}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        """Read a verifier key string (as :meth:`encode` writes it)."""
        parts = text.strip().split("+", 2)  # the base64 key may hold "+" itself
        if len(parts) != 3:
            raise NoteError("a verifier key reads <name>+<key id>+<base64 key>")
        name, hexid, encoded = parts
        key = _unb64(encoded, "the verifier key")
        if len(key) != 33 or key[:1] != ED25519:
            raise NoteError("the verifier key is not an Ed25519 key")
        verifier = cls(check_name(name), Ed25519PublicKey.from_public_bytes(key[1:]))
        if verifier.key_id.hex() != hexid.lower():
            raise NoteError("the verifier key's id does not match its name and key")
        return verifier


@dataclass(frozen=True, slots=True)
class Signer:
    """A named Ed25519 private key that signs notes."""

    name: str
    private: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        """The matching public verifier."""
        return Verifier(self.name, self.private.public_key())

    def sign(self, text: str) -> str:
        """The signed note: ``text``, a blank line, this key's signature line."""
        if not text.endswith("\n"):
            raise NoteError("a note's text ends with a newline")
        signature = self.private.sign(text.encode())
        return f"{text}\n{DASH} {self.name} {_b64(self.verifier.key_id + signature)}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The text of ``note`` once ``verifier``'s signature on it checks out."""
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("not a signed note: no blank line before the signatures")
    text, lines = note[: cut + 1], note[cut + 2 :].splitlines()
    known = 0
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise NoteError(f"not a signature line: {line!r}")
        blob = _unb64(parts[2], "a signature")
        if parts[1] != verifier.name or blob[:4] != verifier.key_id:
            continue  # another key's signature: ignored, as the spec says
        known += 1
        try:
            verifier.public.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise NoteError(f"the signature of {verifier.name} does not verify") from None
    if not known:
        raise NoteError(f"the note carries no signature of {verifier.name}")
    return text


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a checkpoint commits to: the log's origin, its tree size and root hash."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """The checkpoint body (the note text)."""
        return f"{self.origin}\n{self.size}\n{_b64(self.root)}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint body; extension lines after the root are allowed and ignored."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a tree size and a root hash line")
        origin, size, root = lines[0], lines[1], _unb64(lines[2], "the root hash")
        if not _SIZE.fullmatch(size):
            raise NoteError(f"the tree size {size!r} is not a decimal number")
        if len(root) != 32:
            raise NoteError("the root hash is not 32 bytes")
        return cls(check_name(origin), int(size), root)


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The signed note of ``checkpoint``."""
    return signer.sign(checkpoint.text())


def open_checkpoint(note: str, verifier: Verifier) -> Checkpoint:
    """The checkpoint in ``note``, once its signature by ``verifier`` checks out."""
    return Checkpoint.parse(open_note(note, verifier))
