"""Schemas of the rules-governance resources: replays, activation requests, activations."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adjudicator.governance.activation import REASON_MAX
from adjudicator.governance.replays import MAX_SAMPLE

_STATUSES = ("queued", "running", "succeeded", "failed")


class ReplayRequestSchema(Schema):
    """What to replay: a candidate version over stored engine decisions."""

    candidate = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "the loaded version to measure", "example": "2024.1"},
    )
    baseline = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "replay only decisions made with this version (default: all; "
                  "the report is measured against the active version)"},
    )  # fmt: skip
    since = fields.AwareDateTime(data_key="from", metadata={"description": "decided at or after"})
    until = fields.AwareDateTime(data_key="to", metadata={"description": "decided before"})
    sample = fields.Integer(validate=validate.Range(1, MAX_SAMPLE))
    seed = fields.Integer(load_default=0, validate=validate.Range(0, 2**31 - 1))
    jobs = fields.Integer(
        validate=validate.Range(1, 64), metadata={"description": "worker processes"}
    )


class VersionRefSchema(Schema):
    """A ruleset version and its digest."""

    version = fields.String(required=True)
    digest = fields.String(required=True)


class ReplaySchema(Schema):
    """A replay job: status, progress and, once it succeeded, its report and digest."""

    replay_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(_STATUSES))
    candidate = fields.Nested(VersionRefSchema, required=True)
    baseline = fields.Nested(VersionRefSchema, required=True)
    parameters = fields.Dict(required=True)
    total = fields.Integer(required=True, allow_none=True)
    done = fields.Integer(required=True)
    progress = fields.Float(required=True, allow_none=True)
    digest = fields.String(required=True, allow_none=True)
    report = fields.Dict(
        allow_none=True,
        metadata={"description": "the report (docs/replay.md); its digest is sha256 of its "
                  "canonical JSON without the digest member"},
    )  # fmt: skip
    error = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True)
    started_at = fields.String(required=True, allow_none=True)
    finished_at = fields.String(required=True, allow_none=True)
    requested_by = fields.String(required=True)


class ActivationRequestBodySchema(Schema):
    """A request to activate a version, on the evidence of a replay report."""

    report = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "replay_id"},
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=REASON_MAX))


class ActivationRequestSchema(Schema):
    """An activation request and, once approved, who approved it."""

    request_id = fields.String(required=True)
    version = fields.String(required=True)
    digest = fields.String(required=True)
    report = fields.String(required=True)
    report_digest = fields.String(required=True)
    reason = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("pending", "approved")))
    requested_at = fields.String(required=True)
    requested_by = fields.String(required=True)
    approved_at = fields.String(required=True, allow_none=True)
    approved_by = fields.String(required=True, allow_none=True)


class RollbackBodySchema(Schema):
    """Why the active version is rolled back."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=REASON_MAX))


class ActiveVersionSchema(Schema):
    """The active version and how it became active."""

    version = fields.String(required=True)
    digest = fields.String(required=True)
    kind = fields.String(
        required=True, validate=validate.OneOf(("default", "initial", "activation", "rollback"))
    )
    since = fields.String(required=True, allow_none=True)
