"""Webhooks for upstream systems: subscriptions, and the worker jobs that deliver events.

The claim lifecycle writes an outbox row for every claim event
(:func:`adjudicator.webhooks.outbox.enqueue`, in the event's own transaction);
everything from there on is here. Outside the decision path: these modules
use the database and the network (like ``store/``), never Flask.

- :mod:`.events`         the claim event types (one list for the lifecycle and the webhooks)
- :mod:`.subscriptions`  create (secret shown once), list, delete; the delivery log
- :mod:`.sealing`        ``whsec_`` secrets, sealed at rest under the store's key secret
- :mod:`.dispatch`       job ``dispatch_outbox``: outbox rows -> one delivery per subscription
- :mod:`.delivery`       job ``deliver_due``: signed HTTP attempts, each recorded
- :mod:`.retry`          capped exponential backoff with jitter, for 24 h after the event
- :mod:`.retention`      job ``prune_webhook_log``: finished deliveries and their events go
  after ``ADJUDICATOR_WEBHOOK_RETENTION_DAYS``

The jobs are functions ``(store) -> int`` (how much they did; 0 when idle),
for the worker to call in its loop::

    from adjudicator.webhooks import JOBS          # (dispatch_outbox, deliver_due)
"""

from adjudicator.webhooks.delivery import Timeouts, deliver_due, event_body, signed_headers
from adjudicator.webhooks.dispatch import dispatch_outbox
from adjudicator.webhooks.events import ALL, CLAIM_EVENTS, DELIVERABLE_EVENTS, INTERNAL_EVENTS
from adjudicator.webhooks.sealing import SealError, new_secret
from adjudicator.webhooks.subscriptions import (
    DELIVERY_STATES,
    Attempt,
    Delivery,
    Subscription,
    create_subscription,
    delete_subscription,
    get_subscription,
    list_deliveries,
    list_subscriptions,
)

JOBS = (dispatch_outbox, deliver_due)

__all__ = [
    "ALL",
    "CLAIM_EVENTS",
    "DELIVERABLE_EVENTS",
    "DELIVERY_STATES",
    "INTERNAL_EVENTS",
    "JOBS",
    "Attempt",
    "Delivery",
    "SealError",
    "Subscription",
    "Timeouts",
    "create_subscription",
    "delete_subscription",
    "deliver_due",
    "dispatch_outbox",
    "event_body",
    "get_subscription",
    "list_deliveries",
    "list_subscriptions",
    "new_secret",
    "signed_headers",
]
