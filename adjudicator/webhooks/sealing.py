"""Signing secrets: made in the Standard Webhooks form, and sealed at rest.

A secret is ``whsec_`` + base64 of 32 random bytes, the form every Standard
Webhooks library accepts. It is shown once, when the subscription is made; the
database keeps it sealed with AES-256-GCM under a key derived (HKDF-SHA256)
from the store's ``key_secret``, the server secret that already keeps API keys
safe and never enters the database. A dump of the database alone therefore
cannot sign a webhook. The GCM associated data is the subscription's id, URL
and event types (:func:`bound_to`), so the secret opens only on the row it was
made for, as it was made: a sealed secret copied onto another row, or a row
whose URL was changed in the database (to send claims elsewhere), does not
open, and nothing is sent.

Sealed form: ``v1.`` + URL-safe base64 of the 12-byte nonce and the ciphertext.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Sequence
from functools import lru_cache

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from adjudicator.db.errors import StoreError

PREFIX = "whsec_"
_SECRET_BYTES = 32
_NONCE_BYTES = 12
_VERSION = "v1."
_INFO = b"adjudicator webhook signing secrets v1"


class SealError(StoreError):
    """A sealed secret does not open: another key secret, another or a changed row, corrupted."""


def new_secret() -> str:
    """A fresh signing secret, ``whsec_...``."""
    return PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


@lru_cache(maxsize=8)
def _key(key_secret: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key_secret)
    return AESGCM(derived)


def bound_to(subscription_id: str, url: str, events: Sequence[str]) -> bytes:
    """What a sealed secret is bound to: its subscription's id, URL and event types."""
    return orjson.dumps([subscription_id, url, list(events)])


def seal(key_secret: bytes, bound: bytes, secret: str) -> str:
    """``secret`` encrypted for the subscription ``bound`` describes (:func:`bound_to`)."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = _key(key_secret).encrypt(nonce, secret.encode(), bound)
    return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(key_secret: bytes, bound: bytes, sealed: str) -> str:
    """The secret :func:`seal` sealed; :class:`SealError` when it does not open."""
    if not sealed.startswith(_VERSION):
        raise SealError("unknown sealed-secret format")
    try:
        raw = base64.urlsafe_b64decode(sealed[len(_VERSION) :])
        nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        return _key(key_secret).decrypt(nonce, body, bound).decode()
    except (binascii.Error, ValueError, InvalidTag) as exc:
        raise SealError(
            "the sealed secret does not open (another key secret, or the row was changed)"
        ) from exc
