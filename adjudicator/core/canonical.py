"""Canonical JSON and digests: the same document always hashes the same way."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no insignificant white space."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def case_digest(case: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of a case document."""
    return "sha256:" + sha256_hex(canonical_json(dict(case)))
