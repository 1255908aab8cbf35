"""How a console view answers: a whole page, or the piece htmx asked for; decision cards."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from adjudicator.core.errors import UnknownRuleset
from api.console import present
from api.services import services

Page = str | tuple[str, int] | WerkzeugResponse


def render(page: str, partial: str | None = None, status: int = 200, **context: Any) -> Page:
    """The whole page, or only ``partial`` when htmx asked for a piece of it."""
    wants_piece = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    template = partial if partial and wants_piece else page
    return render_template(f"console/{template}.html", **context), status


def _titles(version: str | None = None) -> dict[str, str]:
    catalog = services().adjudicator.catalog
    try:
        ruleset = catalog.get(version) if version else catalog.active
    except UnknownRuleset:
        ruleset = catalog.active
    return {rule.id: rule.title for rule in ruleset.rules}


def card_of(document: dict[str, Any]) -> present.Card:
    """The decision card of a decision document, with its ruleset's rule titles."""
    version = (document.get("ruleset") or {}).get("version")
    return present.decision_card(document, _titles(version))
