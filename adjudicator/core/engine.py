"""The durable-rules adapter: the only module that imports ``durable``.

It follows the integration measured in ``durable-rules.md``: its own
synchronous host (no background threads), every ruleset registered from a
deep copy of its JSON definition, one ``assert_facts`` per decision under a
fresh session id, the session deleted in ``finally``, and one lock around
each decision (the C core never releases the GIL).

The C core decides which rule fires next; this module runs the agenda itself
(``RulesEngine._dispatch``) instead of through the host's Python action runner.
That runner swallows an action's exception into ``state['exception']`` and
keeps firing; here an action failure abandons the action and raises
:class:`EngineError` at once. It also skips the runner's per-action closure
objects and lease clocks, and moves JSON across the C boundary with orjson.
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

from adjudicator.core.actions import bind, written_fields
from adjudicator.core.context import Context
from adjudicator.core.dates import from_epoch_day
from adjudicator.core.errors import EngineError
from adjudicator.core.fact_types import FACT_FIELDS, NO_LIMIT, STATE_FIELDS, STATE_SEEDS
from adjudicator.core.money import format_minor
from adjudicator.core.rules.model import Ruleset, RuleSpec

_NOT_HANDLED = 1  # some fact matched no rule: normal (e.g. a payment nobody warns about)


_Fire = Callable[[Context, dict[str, Any], dict[str, Any]], None]


def _dispatched_by_engine(closure: Any) -> None:
    raise EngineError("actions are dispatched by RulesEngine, not by the durable host")


class _SyncHost(_durable.Host):  # type: ignore[misc]
    """A durable-rules host without its background dispatch threads.

    It compiles and owns the rulesets; :class:`RulesEngine` drives each
    decision's agenda itself, so the host's own action runner is never used.
    """

    def _run(self) -> None:
        """Start nothing: every decision is driven synchronously by the caller."""

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        return _dispatched_by_engine


class RulesEngine:
    """Decides cases with durable-rules; one per process, safe to share between threads."""

    def __init__(self, rulesets: Iterable[Ruleset] = ()) -> None:
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._fires: dict[str, dict[str, _Fire]] = {}
        self._host = _SyncHost()
        for ruleset in rulesets:
            self.register(ruleset)

    def register(self, ruleset: Ruleset) -> None:
        """Make a ruleset version available to :meth:`run` (idempotent per version)."""
        with self._lock:
            if ruleset.engine_name in self._fires:
                return
            try:
                self._host.register_rulesets(
                    {ruleset.engine_name: copy.deepcopy(ruleset.engine_definition())}
                )
            except Exception as exc:
                raise EngineError(f"cannot register {ruleset.engine_name}: {_text(exc)}") from exc
            self._fires[ruleset.engine_name] = {spec.id: _bind(spec) for spec in ruleset.rules}

    def run(self, ruleset: Ruleset, ctx: Context, facts: list[dict[str, Any]]) -> dict[str, Any]:
        """Assert the facts of one case in a fresh session; return the final session state."""
        self.register(ruleset)
        with self._lock:
            rules = self._host.get_ruleset(ruleset.engine_name)
            sid = str(next(self._sids))
            try:
                return self._run(rules, ruleset, ctx, sid, facts)
            except EngineError:
                raise
            except MemoryError as exc:
                raise EngineError("the rules engine ran out of sessions", recycle=True) from exc
            except Exception as exc:
                raise EngineError(f"the rules engine failed: {_text(exc)}") from exc
            finally:
                with contextlib.suppress(Exception):  # no session to delete if it never began
                    rules.delete_state(sid)

    def live_sessions(self, ruleset: Ruleset, sids: Iterable[str]) -> list[str]:
        """Which of these session ids still hold state (after a decision: none should)."""
        rules = self._host.get_ruleset(ruleset.engine_name)
        live = []
        for sid in sids:
            try:
                rules.get_state(sid)
            except Exception:  # noqa: BLE001 - the core's "could not get state": gone
                continue
            live.append(sid)
        return live

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
        final = self._dispatch(rules._handle, handle, self._fires[ruleset.engine_name], ctx)
        if final is None:  # no rule fired at all
            final = rules.get_state(sid)
        if "exception" in final:  # how durable's own runner reports an action failure
            raise EngineError(f"a rule action failed: {final['exception']}")
        return final

    @staticmethod
    def _dispatch(
        rules: Any, handle: Any, fires: dict[str, _Fire], ctx: Context
    ) -> dict[str, Any] | None:
        """Run the agenda to its end: each action, then the state it changed, back to the core.

        This is durable.engine's ``Ruleset._flush_actions`` without its per-action
        closure objects and lease timers, which cost more than the actions.
        """
        started = _core.start_action_for_state(rules, handle)
        if not started:
            return None
        state: dict[str, Any] = orjson.loads(started[0])
        message: dict[str, Any] = orjson.loads(started[1])
        while True:
            rule_name, matched = next(iter(message.items()))
            try:
                fires[rule_name](ctx, state, matched)
            except BaseException as exc:
                _core.abandon_action(rules, handle)
                raise EngineError(f"rule {rule_name} failed: {_text(exc)}") from exc
            _core.update_state(rules, orjson.dumps(state).decode())
            following = _core.complete_and_start_action(rules, handle)
            if not following:
                return state
            message = orjson.loads(following)


def _bind(spec: RuleSpec) -> _Fire:
    """The callable that runs ``spec``'s action and records its trace step."""
    action = bind(spec)
    aliases = [(alias, alias.rsplit("_", 1)[0]) for p in spec.definition["all"] for alias in p]
    reads = [(_key(t, f), t, f, _KINDS[t][f]) for t, f in spec.reads]
    guard = spec.guard
    # the trace shows the state fields the condition read (as they were) and those the
    # action changed: only the fields this rule's verb can write are compared
    written = written_fields(spec)
    watched = tuple((n, _KINDS["state"][n]) for n in STATE_FIELDS if n in written)
    kept = tuple(dict.fromkeys([*(f for t, f in spec.reads if t == "state"), *written]))

    def fire(ctx: Context, state: dict[str, Any], matched: dict[str, Any]) -> None:
        facts = {t: matched[alias] for alias, t in aliases if alias in matched}
        facts["state"] = state
        before = {name: state.get(name) for name in kept}
        action(ctx, facts)
        if guard:
            state[guard] = 1
        currency = ctx.normalised.currency
        shown = {
            key: _show(currency, kind, (before if t == "state" else facts[t]).get(f))
            for key, t, f, kind in reads
        }
        for name, kind in watched:
            if state[name] != before[name]:
                shown["=> " + name] = _show(currency, kind, state[name])
        ctx.step(spec.id, shown)

    return fire


_KINDS: dict[str, dict[str, str]] = {
    **{t: dict(f) for t, f in FACT_FIELDS.items()},
    "state": {k: kind for k, (kind, _) in STATE_FIELDS.items()} | STATE_SEEDS,
}


def _key(fact_type: str, field: str) -> str:
    return field if fact_type == "case" else f"{fact_type}.{field}"


def _show(currency: str, kind: str, value: Any) -> Any:
    """A fact value as a reader sees it: epoch days as dates, minor units as money."""
    if kind == "day" and isinstance(value, int) and abs(value) < 10**6:
        return from_epoch_day(value).isoformat()
    if kind == "money" and isinstance(value, int):
        return "none" if value >= NO_LIMIT else format_minor(value, currency)
    return value


def _text(exc: BaseException | Any) -> str:
    message = getattr(exc, "message", None)
    return str(message if message is not None else exc)
