"""The durable-rules adapter: the only module that imports ``durable``.

It follows the integration measured in ``durable-rules.md``: its own
synchronous host (no background threads), every ruleset registered from a
deep copy of its JSON definition, one ``assert_facts`` per decision under a
fresh session id, the session deleted in ``finally``, one lock around each
decision (the C core never releases the GIL), and an action failure (which
durable-rules only records as ``state['exception']``) turned into an error.
JSON crosses the C boundary through orjson rather than the stdlib module.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import threading
from collections.abc import Callable, Iterable
from typing import Any

import durable_rules_engine as _core
import orjson
from durable import engine as _durable

from adjudicator.actions import VOCABULARY
from adjudicator.context import Context
from adjudicator.dates import from_epoch_day
from adjudicator.errors import EngineError
from adjudicator.fact_types import FACT_FIELDS, NO_LIMIT, STATE_FIELDS, STATE_SEEDS
from adjudicator.money import format_minor
from adjudicator.rules.model import Ruleset, RuleSpec

_NOT_HANDLED = 1  # some fact matched no rule: normal (e.g. a payment nobody warns about)


class _OrjsonCodec:
    """Stands in for the ``json`` module inside durable.engine."""

    @staticmethod
    def dumps(value: Any, ensure_ascii: bool = False, **_: Any) -> str:
        return orjson.dumps(value).decode()

    @staticmethod
    def loads(text: str | bytes) -> Any:
        return orjson.loads(text)


class _SyncHost(_durable.Host):  # type: ignore[misc]
    """A durable-rules host without its background dispatch threads."""

    def __init__(self, resolve: Callable[[str], Callable[[Any], None]]) -> None:
        self._resolve = resolve
        super().__init__()

    def _run(self) -> None:
        """Start nothing: every decision is driven synchronously by the caller."""

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        return self._resolve(action_name)


class RulesEngine:
    """Decides cases with durable-rules; one per process, safe to share between threads."""

    def __init__(self, rulesets: Iterable[Ruleset] = ()) -> None:
        _durable.json = _OrjsonCodec
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._current: Context | None = None
        self._actions: dict[str, Callable[[Any], None]] = {}
        self._registered: set[str] = set()
        self._host = _SyncHost(self._actions.__getitem__)
        for ruleset in rulesets:
            self.register(ruleset)

    def register(self, ruleset: Ruleset) -> None:
        """Make a ruleset version available to :meth:`run` (idempotent per version)."""
        with self._lock:
            if ruleset.engine_name in self._registered:
                return
            for spec in ruleset.rules:
                self._actions[f"{ruleset.engine_name}/{spec.id}"] = self._bind(spec)
            try:
                self._host.register_rulesets(
                    {ruleset.engine_name: copy.deepcopy(ruleset.engine_definition())}
                )
            except Exception as exc:
                raise EngineError(f"cannot register {ruleset.engine_name}: {_text(exc)}") from exc
            self._registered.add(ruleset.engine_name)

    def run(self, ruleset: Ruleset, ctx: Context, facts: list[dict[str, Any]]) -> dict[str, Any]:
        """Assert the facts of one case in a fresh session; return the final session state."""
        self.register(ruleset)
        with self._lock:
            rules = self._host.get_ruleset(ruleset.engine_name)
            sid = str(next(self._sids))
            self._current = ctx
            try:
                return self._run(rules, ruleset, ctx, sid, facts)
            except EngineError:
                raise
            except MemoryError as exc:
                raise EngineError("the rules engine ran out of sessions", recycle=True) from exc
            except Exception as exc:
                raise EngineError(f"the rules engine failed: {_text(exc)}") from exc
            finally:
                self._current = None
                with contextlib.suppress(Exception):  # no session to delete if it never began
                    rules.delete_state(sid)

    def _run(
        self, rules: Any, ruleset: Ruleset, ctx: Context, sid: str, facts: list[dict[str, Any]]
    ) -> dict[str, Any]:
        case = facts[0]
        seeds = {name: case[name] for name in STATE_SEEDS}
        state = {**ruleset.initial_state, **seeds, "sid": sid, "$s": 1}
        _core.update_state(rules._handle, orjson.dumps(state).decode())
        batch = orjson.dumps([{**fact, "sid": sid} for fact in facts]).decode()
        code, handle = _core.assert_facts(rules._handle, batch)
        if code not in (0, _NOT_HANDLED):
            raise EngineError(f"the rules engine refused the facts (code {code})")
        outcome: list[tuple[Any, Any]] = []
        rules.do_actions(handle, lambda error, result: outcome.append((error, result)))
        error, final = outcome[-1] if outcome else (None, None)
        if ctx.failure is not None:
            raise EngineError(f"a rule action failed: {_text(ctx.failure)}") from ctx.failure
        if error:
            raise EngineError(f"the rules engine failed: {_text(error)}")
        if final is None:
            final = rules.get_state(sid)
        if "exception" in final:
            raise EngineError(f"a rule action failed: {final['exception']}")
        return dict(final)

    def _bind(self, spec: RuleSpec) -> Callable[[Any], None]:
        action = VOCABULARY[spec.action].run
        aliases = [next(iter(p)) for p in spec.definition["all"]]
        kinds = {t: dict(f) for t, f in FACT_FIELDS.items()}
        kinds["state"] = {k: kind for k, (kind, _) in STATE_FIELDS.items()} | STATE_SEEDS

        def fire(closure: Any) -> None:
            ctx = self._current
            if ctx is None or ctx.failure is not None:
                return
            try:
                matched = closure._m or {}
                facts: dict[str, dict[str, Any]] = {
                    alias.rsplit("_", 1)[0]: matched[alias] for alias in aliases if alias in matched
                }
                state: dict[str, Any] = closure.s._d
                facts["state"] = state
                before = dict(state)
                action(ctx, spec, facts)
                if spec.guard:
                    state[spec.guard] = 1
                shown = {
                    _key(t, f): _show(
                        ctx, kinds[t][f], facts[t].get(f) if t != "state" else before.get(f)
                    )
                    for t, f in spec.reads
                    if t in facts
                }
                for name, value in state.items():
                    if name in STATE_FIELDS and before.get(name) != value:
                        shown[f"=> {name}"] = _show(ctx, STATE_FIELDS[name][0], value)
                ctx.step(spec.id, shown)
            except Exception as exc:  # noqa: BLE001 - reported through ctx.failure
                ctx.failure = exc

        return fire


def _key(fact_type: str, field: str) -> str:
    return field if fact_type == "case" else f"{fact_type}.{field}"


def _show(ctx: Context, kind: str, value: Any) -> Any:
    if kind == "day" and isinstance(value, int) and abs(value) < 10**6:
        return from_epoch_day(value).isoformat()
    if kind == "money" and isinstance(value, int):
        return "none" if value >= NO_LIMIT else format_minor(value, ctx.normalised.currency)
    return value


def _text(exc: BaseException | Any) -> str:
    message = getattr(exc, "message", None)
    return str(message if message is not None else exc)
