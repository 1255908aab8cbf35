"""``/v1/webhooks``: subscriptions of upstream systems to claim events, and their delivery log.

Admin only. The views never send anything: delivery is the worker's job
(:mod:`adjudicator.webhooks`), so a receiver that is slow or down cannot slow
a request.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView

from adjudicator.webhooks import (
    create_subscription,
    delete_subscription,
    list_deliveries,
    list_subscriptions,
)
from api.auth import current_actor
from api.openapi import Blueprint
from api.services import services
from api.webhook_schemas import (
    DeliveryPageSchema,
    DeliveryQuerySchema,
    WebhookCreatedSchema,
    WebhookCreateSchema,
    WebhookListSchema,
)

_LOCATION = {"Location": {"description": "the subscription's URL", "schema": {"type": "string"}}}


blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/v1/webhooks",
    description="Subscriptions of upstream systems to claim events.",
)


@blp.route("")
class Webhooks(MethodView):
    @blp.secured()
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, WebhookCreatedSchema, headers=_LOCATION)
    @blp.problems(400, 413, 422)
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Subscribe an endpoint; the answer holds its signing secret, shown this once."""
        subscription, secret = create_subscription(
            services().store,
            url=body["url"],
            events=body["events"],
            description=body["description"],
            actor=current_actor(),
            request_id=g.request_id,
        )
        created = {**subscription.to_dict(), "secret": secret}
        location = {"Location": f"/v1/webhooks/{subscription.webhook_id}"}
        return created, location

    @blp.secured()
    @blp.response(200, WebhookListSchema)
    def get(self) -> dict[str, Any]:
        """Every live subscription, oldest first (no secrets)."""
        return {"items": [s.to_dict() for s in list_subscriptions(services().store)]}


@blp.route("/<webhook_id>")
class WebhookById(MethodView):
    @blp.secured()
    @blp.response(204)
    @blp.problems(404)
    def delete(self, webhook_id: str) -> None:
        """Delete a subscription: it is sent nothing more; what was pending is cancelled."""
        delete_subscription(
            services().store, webhook_id, actor=current_actor(), request_id=g.request_id
        )


@blp.route("/<webhook_id>/deliveries")
class Deliveries(MethodView):
    @blp.secured()
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliveryPageSchema)
    @blp.problems(404, 422)
    def get(self, query: dict[str, Any], webhook_id: str) -> dict[str, Any]:
        """The delivery log, newest first: each delivery with every attempt made at it."""
        page = list_deliveries(
            services().store,
            webhook_id,
            status=query.get("status"),
            cursor=query.get("cursor"),
            limit=query["limit"],
        )
        return {"items": [d.to_dict() for d in page.items], "next_cursor": page.next_cursor}
