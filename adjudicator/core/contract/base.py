"""The base of the contract schemas: marshmallow semantics, without its per-field overhead.

``Schema.load`` spends most of a case's validation time in generic machinery
the contract never uses: a closure, ``_call_and_store`` and ``set_value`` per
field, ``partial`` handling (``is_collection(None)`` ends in
``inspect.isgeneratorfunction`` for every nested object), the ``required``/
``null`` checks of ``Field.deserialize`` and a hook dispatch per object.

:class:`ContractSchema` keeps the declarations marshmallow's (fields,
``Meta``, ``@validates_schema`` and ``@post_load`` hooks, so apispec and
``Schema.load`` see an ordinary schema) and loads them with a plan built once
per schema instance: the same steps in the same order, with the same errors,
defaults and partial ``valid_data``. A schema or call that uses anything the
plan does not cover (``many``, ``partial``, ``data_key``, ``pre_load``,
``@validates``, field ``validate=`` ...) goes through ``Schema.load`` unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, missing, types
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.error_store import merge_errors
from marshmallow.exceptions import SCHEMA

from adjudicator.core.contract.fields import openapi_meta
from adjudicator.core.money import exponent, fits_exponent

# A field step: (key, field, how to read a present non-null value, or None for
# field.deserialize)
_Step = tuple[str, fields.Field[Any], Callable[..., Any] | None]


def _has_processors(field: fields.Field[Any]) -> bool:
    return bool(field.validators or field.pre_load or field.post_load)


@dataclass(frozen=True, slots=True)
class _Plan:
    steps: tuple[_Step, ...]
    keys: frozenset[str]
    validators: tuple[tuple[str, bool, bool], ...]  # (method, skip_on_field_errors, original)
    post_loads: tuple[tuple[str, bool], ...]  # (method, pass_original)


def _plan(schema: ContractSchema) -> _Plan | None:
    """How to load ``schema`` directly, or None when it needs ``Schema.load``."""
    hooks = schema._hooks  # the decorators' registry (stable since marshmallow 3)
    if (
        schema.many
        or schema.partial is not None
        or schema.unknown != RAISE
        or hooks[PRE_LOAD]
        or hooks[VALIDATES]
        or any(many for _, many, _ in hooks[VALIDATES_SCHEMA] + hooks[POST_LOAD])
        or type(schema).handle_error is not Schema.handle_error
        or schema.dict_class is not dict
    ):
        return None
    steps: list[_Step] = []
    for name, field in schema.load_fields.items():
        if field.data_key is not None or field.attribute is not None or "." in name:
            return None
        read: Callable[..., Any] | None = None
        if isinstance(field, Object):
            read = None if _has_processors(field) else field.direct_loader()
        elif not _has_processors(field):
            read = field._deserialize  # what Field.deserialize calls for a present value
        steps.append((name, field, read))
    validators = tuple(
        (name, bool(kw.get("skip_on_field_errors", True)), bool(kw.get("pass_original")))
        for name, _, kw in hooks[VALIDATES_SCHEMA]
    )
    post_loads = tuple((name, bool(kw.get("pass_original"))) for name, _, kw in hooks[POST_LOAD])
    return _Plan(tuple(steps), frozenset(name for name, _, _ in steps), validators, post_loads)


_UNSET: Any = object()
_merge: Callable[[Any, Any], Any] = merge_errors  # marshmallow's (untyped)
Path = tuple[str | int, ...]


def describe(text: str) -> dict[str, str]:
    """A field's OpenAPI ``description``."""
    return {"description": text}


def put_error(errors: dict[Any, Any], path: Path, message: str) -> None:
    """Add ``message`` at ``path`` in a nested marshmallow error dict.

    A path may hold both the object's own messages and its fields' (the order's
    value is too high and one of its lines is a duplicate): the object's own then
    go under ``_schema``, which :func:`adjudicator.core.contract.flatten_errors`
    reports at the object's path.
    """
    node = errors
    for key in path[:-1]:
        found = node.setdefault(key, {})
        if isinstance(found, list):
            found = node[key] = {SCHEMA: found}
        node = found
    at = node.setdefault(path[-1], [])
    (at.setdefault(SCHEMA, []) if isinstance(at, dict) else at).append(message)


def loaded_items(data: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index, item) of the items of ``data[key]`` that loaded at least in part."""
    value = data.get(key)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def check_decimals(errors: dict[Any, Any], path: Path, amount: object, currency: str) -> None:
    """Money may carry no more decimals than its currency's ISO 4217 exponent."""
    if isinstance(amount, Decimal) and not fits_exponent(amount, currency):
        places = exponent(currency)
        allowed = f"at most {places} decimals" if places else "no decimals"
        put_error(errors, path, f"{currency} allows {allowed}.")


class ContractSchema(Schema):
    """Base of the contract schemas: unknown keys are errors, a non-object says so."""

    class Meta:
        unknown = RAISE
        register = False

    error_messages = {"type": "Must be a JSON object.", "unknown": "Unknown field."}

    _contract_plan: _Plan | None = _UNSET

    def load(
        self,
        data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        many: bool | None = None,
        partial: bool | types.StrSequenceOrSet | None = None,
        unknown: types.UnknownOption | None = None,
    ) -> Any:
        """``Schema.load``; the plain single-object call takes the planned path."""
        if many is None and partial is None and (unknown is None or unknown == self.unknown):
            loader = self.direct_loader()
            if loader is not None:
                return loader(data)
        return super().load(data, many=many, partial=partial, unknown=unknown)

    def direct_loader(self) -> Callable[[Any], Any] | None:
        """``load(data)`` as one planned call, or None when this schema needs ``Schema.load``."""
        plan = self._contract_plan
        if plan is _UNSET:
            plan = self._contract_plan = _plan(self)
        return None if plan is None else self._load_planned

    def _load_planned(self, data: Any) -> dict[str, Any]:
        """``Schema._do_load`` for one object, step for step (see the module docstring)."""
        plan = self._contract_plan
        assert plan is not None
        result: dict[str, Any] = {}
        errors: dict[Any, Any] = {}
        if not isinstance(data, Mapping):
            errors[SCHEMA] = [self.error_messages["type"]]
        else:
            get = data.get
            for key, field, read in plan.steps:
                value = get(key, missing)
                try:
                    if read is None or value is missing or value is None:
                        value = field.deserialize(value, key, data)
                    else:
                        value = read(value, key, data)
                except ValidationError as error:
                    errors[key] = error.messages
                    value = error.valid_data or missing
                if value is not missing:
                    result[key] = value
            if not plan.keys.issuperset(data):
                for key in data:
                    if key not in plan.keys:
                        errors = _merge(errors, {key: [self.error_messages["unknown"]]})
        if plan.validators:
            errors = self._run_validators(plan, result, data, errors)
        if not errors and plan.post_loads:
            try:
                for name, original in plan.post_loads:
                    hook = getattr(self, name)
                    kw = {"many": False, "partial": None, "unknown": self.unknown}
                    result = hook(result, data, **kw) if original else hook(result, **kw)
            except ValidationError as error:  # as ValidationError.normalized_messages()
                if error.field_name == SCHEMA and isinstance(error.messages, dict):
                    errors = error.messages
                else:
                    errors = {error.field_name: error.messages}
        if errors:
            raise ValidationError(errors, data=data, valid_data=result)
        return result

    def _run_validators(
        self, plan: _Plan, result: dict[str, Any], data: Any, errors: dict[Any, Any]
    ) -> dict[Any, Any]:
        field_errors = bool(errors)
        for name, skip_on_field_errors, original in plan.validators:
            if field_errors and skip_on_field_errors:
                continue
            hook = getattr(self, name)
            kw = {"partial": None, "many": False, "unknown": self.unknown}
            try:
                if original:
                    hook(result, data, **kw)
                else:
                    hook(result, **kw)
            except ValidationError as error:
                messages = error.messages
                if error.field_name != SCHEMA or not isinstance(messages, dict):
                    messages = {error.field_name: messages}
                errors = _merge(errors, messages)
        return errors


class Object(fields.Nested):
    """A nested contract object, loaded by its schema's plan when it has one."""

    def _validate(self, value: Any) -> None:
        if self.validators:
            super()._validate(value)

    def direct_loader(self) -> Callable[..., Any] | None:
        """The nested schema's planned loader as a ``_deserialize``, when it applies."""
        schema = self.schema
        if self.many or self.unknown is not None or not isinstance(schema, ContractSchema):
            return None
        load = schema.direct_loader()
        if load is None:
            return None

        def read(value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
            return load(value)

        return read


class BoundedList(fields.List):  # type: ignore[type-arg]
    """A JSON array of ``min_items..max_items`` items, checked before any item is read.

    Failed items keep their place (as their partial data, or ``None``), so
    indices in the partial data that schema-level checks see match the document's.
    """

    def __init__(
        self, inner: fields.Field[Any], *, max_items: int, min_items: int = 0, **kw: Any
    ) -> None:
        super().__init__(
            inner, metadata=openapi_meta(kw, minItems=min_items, maxItems=max_items), **kw
        )
        self.min_items = min_items
        self.max_items = max_items
        self._read_item: Callable[..., Any] | None = _UNSET

    def _validate(self, value: Any) -> None:
        if self.validators:
            super()._validate(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise ValidationError("Must be a JSON array.")
        if len(value) > self.max_items:
            raise ValidationError(f"At most {self.max_items} items.")
        if len(value) < self.min_items:
            raise ValidationError(f"At least {self.min_items} item(s).")
        inner = self.inner
        read = self._read_item
        if read is _UNSET:
            direct = isinstance(inner, Object) and not _has_processors(inner)
            read = self._read_item = inner.direct_loader() if direct else None  # type: ignore[attr-defined]
        if kwargs:
            read = None
        result: list[Any] = []
        errors: dict[int, Any] = {}
        for index, item in enumerate(value):
            try:
                if read is None or item is None:
                    result.append(inner.deserialize(item, **kwargs))
                else:
                    result.append(read(item))
            except ValidationError as error:
                result.append(error.valid_data)
                errors[index] = error.messages
        if errors:
            raise ValidationError(errors, valid_data=result)
        return result
