"""Evidence merged into a case document: a JSON merge by id, into a new revision.

A submission may carry ``payments``, ``shipments``, ``inspections`` and
``amendments`` (the order's). Each entry is either new (appended) or a
correction of an entry already in the case, found

- by ``"index": n`` (its position, for any list; amendments have no id), or
- by its id: ``payment_id``, ``shipment_id``, ``inspection_id``.

A correction is applied as a JSON merge patch (RFC 7396): the keys it names
replace the old values, a ``null`` removes the key. The merged case is
validated by the caller exactly like a decision request; this module only merges.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from adjudicator.core.lifecycle.errors import InvalidAction

SECTIONS: dict[str, str | None] = {
    "payments": "payment_id",
    "shipments": "shipment_id",
    "inspections": "inspection_id",
    "amendments": None,
}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: ``patch`` applied to ``target`` (a new value; neither is changed)."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _section(case: dict[str, Any], name: str) -> list[Any]:
    holder = case["order"] if name == "amendments" else case
    if not isinstance(holder, dict):
        return []
    found = holder.get(name)
    if found is None:
        found = holder[name] = []
    if not isinstance(found, list):
        raise InvalidAction("invalid case", {name: ["Not a list in the case document."]})
    return found


def merge_evidence(case: Mapping[str, Any], evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The case with ``evidence`` merged in; raises :class:`InvalidAction` for a bad index."""
    merged: dict[str, Any] = copy.deepcopy(dict(case))
    errors: dict[str, list[str]] = {}
    for name, id_key in SECTIONS.items():
        entries = evidence.get(name)
        if not entries:
            continue
        target = _section(merged, name)
        for position, entry in enumerate(entries):
            path = f"{name}.{position}"
            if not isinstance(entry, Mapping):
                errors[path] = ["Must be an object."]
                continue
            patch = {k: v for k, v in entry.items() if k != "index"}
            index = entry.get("index")
            if index is None and id_key is not None and id_key in entry:
                ids = [e.get(id_key) if isinstance(e, Mapping) else None for e in target]
                index = ids.index(entry[id_key]) if entry[id_key] in ids else None
            if index is None:
                target.append(merge_patch({}, patch))
            elif type(index) is int and 0 <= index < len(target):
                target[index] = merge_patch(target[index], patch)
            else:
                errors[f"{path}.index"] = [f"No entry {index!r} among {len(target)}."]
    if errors:
        raise InvalidAction("invalid evidence", errors)
    return merged
