"""The marshmallow schemas of ``/v1/webhooks``: what its views load and dump, and OpenAPI shows."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, pre_load, validate

from adjudicator.db.pagination import MAX_LIMIT
from adjudicator.webhooks import ALL, DELIVERABLE_EVENTS, DELIVERY_STATES
from adjudicator.webhooks.models import DESCRIPTION_MAX, URL_MAX

_no_nul = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")
_EVENT_NAMES = (ALL, *DELIVERABLE_EVENTS)


class WebhookCreateSchema(Schema):
    """A new subscription: where to POST, which event types (``["*"]`` for all), what for."""

    url = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=URL_MAX),
            validate.URL(schemes={"http", "https"}, require_tld=False),
        ],
        metadata={
            "description": "http or https endpoint",
            "example": "https://orders.example/hooks",
        },
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(_EVENT_NAMES)),
        required=True,
        validate=validate.Length(min=1, max=len(_EVENT_NAMES)),
        metadata={
            "description": 'event types, or `["*"]` (also the bare string `"*"`) for all '
            "of them; never `claim.noted`"
        },
    )
    description = fields.String(
        load_default="", validate=[validate.Length(max=DESCRIPTION_MAX), _no_nul]
    )

    @pre_load
    def _bare_star(self, data: Any, **_: Any) -> Any:
        """``"events": "*"`` is read as ``["*"]``."""
        if isinstance(data, dict) and data.get("events") == ALL:
            return {**data, "events": [ALL]}
        return data


class WebhookSchema(Schema):
    """A subscription (its secret is never shown again)."""

    webhook_id = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    description = fields.String(required=True)
    created_at = fields.String(required=True)
    created_by = fields.String(required=True)


class WebhookCreatedSchema(WebhookSchema):
    """The new subscription and its signing secret, shown this once."""

    secret = fields.String(
        required=True,
        metadata={"description": "Standard Webhooks signing secret (`whsec_...`); shown once"},
    )


class WebhookListSchema(Schema):
    """Every live subscription, oldest first."""

    items = fields.List(fields.Nested(WebhookSchema), required=True)


class AttemptSchema(Schema):
    """One HTTP attempt: when, the receiver's status code or the error, the retry it set."""

    number = fields.Integer(required=True)
    at = fields.String(required=True)
    status_code = fields.Integer(required=True, allow_none=True)
    error = fields.String(required=True, allow_none=True)
    duration_ms = fields.Integer(required=True)
    next_retry_at = fields.String(required=True, allow_none=True)


class DeliverySchema(Schema):
    """One event owed to the subscription and every attempt made at it."""

    delivery_id = fields.Integer(required=True)
    event_id = fields.String(required=True, metadata={"description": "the `webhook-id` header"})
    event_type = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(DELIVERY_STATES))
    created_at = fields.String(required=True)
    next_attempt_at = fields.String(required=True, allow_none=True)
    expires_at = fields.String(required=True, metadata={"description": "retries stop here"})
    finished_at = fields.String(required=True, allow_none=True)
    attempts = fields.List(fields.Nested(AttemptSchema), required=True)


class DeliveryPageSchema(Schema):
    """One page of a subscription's delivery log, newest first."""

    items = fields.List(fields.Nested(DeliverySchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class DeliveryQuerySchema(Schema):
    """Filter and paging of the delivery log."""

    status = fields.String(validate=validate.OneOf(DELIVERY_STATES))
    cursor = fields.String(validate=[validate.Length(max=512), _no_nul])
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
