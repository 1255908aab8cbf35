"""Signed notes are the C2SP/Go format: the Go ``sumdb/note`` example, byte for byte.

The vector is the example of ``golang.org/x/mod/sumdb/note`` (signer key,
verifier key, text, signed note); Ed25519 is deterministic, so our signer must
produce the very same note and our verifier must accept it.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adjudicator.audit.checkpoint_note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_checkpoint,
    open_note,
    sign_checkpoint,
)

GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _go_signer() -> Signer:
    seed = base64.b64decode(GO_SIGNER.split("+", 4)[4])[1:]
    return Signer("PeterNeumann", Ed25519PrivateKey.from_private_bytes(seed))


def test_the_go_example_note_is_what_we_sign_and_verify() -> None:
    signer = _go_signer()
    assert signer.verifier.encode() == GO_VERIFIER
    assert signer.sign(GO_TEXT) == GO_NOTE
    assert open_note(GO_NOTE, Verifier.parse(GO_VERIFIER)) == GO_TEXT


def test_a_verifier_key_whose_base64_holds_a_plus() -> None:
    # transparency-dev/formats' test key: the '+' inside the base64 must not split it
    verifier = Verifier.parse("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")
    assert verifier.name == "TEST" and verifier.key_id.hex() == "7997405c"


@pytest.mark.parametrize(
    "mangled",
    [
        GO_VERIFIER.replace("c74f20a3", "c74f20a4"),
        GO_VERIFIER.replace("PeterNeumann", "Peter Neumann"),
        GO_VERIFIER[:-4],
        "PeterNeumann+c74f20a3",
    ],
)
def test_mangled_verifier_keys_are_refused(mangled: str) -> None:
    with pytest.raises(NoteError):
        Verifier.parse(mangled)


def test_other_signatures_are_ignored_and_a_bad_one_is_refused() -> None:
    other = (  # another key's line: ignored, as the spec requires
        "\u2014 EnochRoot "
        "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
    )
    assert open_note(GO_NOTE + other, Verifier.parse(GO_VERIFIER)) == GO_TEXT
    with pytest.raises(NoteError, match="no signature"):
        open_note(GO_TEXT + "\n" + other, Verifier.parse(GO_VERIFIER))
    with pytest.raises(NoteError, match="does not verify"):
        open_note(GO_NOTE.replace("problem is", "problem was"), Verifier.parse(GO_VERIFIER))
    with pytest.raises(NoteError, match="blank line"):
        open_note(GO_TEXT, Verifier.parse(GO_VERIFIER))


def test_a_checkpoint_round_trips_and_its_body_is_the_c2sp_one() -> None:
    signer = _go_signer()
    checkpoint = Checkpoint("example.com/log", 42, bytes(range(32)))
    note = sign_checkpoint(checkpoint, signer)
    assert note.startswith(
        "example.com/log\n42\n" + base64.b64encode(bytes(range(32))).decode() + "\n\n\u2014 "
    )
    assert open_checkpoint(note, signer.verifier) == checkpoint
    with pytest.raises(NoteError):
        Checkpoint.parse("example.com/log\n042\nAAAA\n")
