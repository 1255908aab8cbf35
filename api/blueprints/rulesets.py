"""``/v1/rulesets``: the loaded ruleset versions, their digests, and their rules."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from adjudicator.core.errors import UnknownRuleset
from adjudicator.core.rules.model import Ruleset
from api.auth import ANY_ROLE
from api.openapi import Blueprint
from api.problems import Problem
from api.schemas import RulesetListSchema, RulesetSchema
from api.services import services


def _summary(ruleset: Ruleset, active: str) -> dict[str, Any]:
    return {
        "name": ruleset.name,
        "version": ruleset.version,
        "digest": ruleset.digest,
        "active": ruleset.version == active,
        "rule_count": len(ruleset.rules),
    }


blp = Blueprint(
    "rulesets", __name__, url_prefix="/v1/rulesets", description="Loaded ruleset versions."
)


@blp.route("")
class Rulesets(MethodView):
    @blp.secured(*ANY_ROLE)
    @blp.response(200, RulesetListSchema)
    def get(self) -> dict[str, Any]:
        """Every loaded version, its digest, and which one is active (the database's choice)."""
        catalog = services().adjudicator.catalog
        active = services().active_version() or catalog.get(None).version
        return {
            "name": catalog.name,
            "active": active,
            "versions": [_summary(catalog.get(v), active) for v in catalog.versions],
        }


@blp.route("/<version>")
class RulesetByVersion(MethodView):
    @blp.secured(*ANY_ROLE)
    @blp.response(200, RulesetSchema)
    @blp.problems(404)
    def get(self, version: str) -> dict[str, Any]:
        """One version: its digest, parameters, and each rule's id, title and source."""
        catalog = services().adjudicator.catalog
        try:
            ruleset = catalog.get(version)
        except UnknownRuleset:
            raise Problem(404, "not-found", "No ruleset version with that name.") from None
        return {
            **_summary(ruleset, services().active_version() or catalog.get(None).version),
            "rules": ruleset.rules,  # RuleInfoSchema dumps each rule's id, title, source, stage
            "parameters": ruleset.parameters,
        }
