"""``verify_audit``: the audit chain, then every table held to the entries that recorded it.

The audit capability walks the chain and checks checkpoints; each capability
owns the check of its own rows. This module, above them all, lists those
checks in the order they run (the first mismatch is reported), so the audit
package depends on none of the capabilities it verifies. A new table joins
with one function appended to :data:`ROW_CHECKS`.
"""

from __future__ import annotations

from adjudicator.audit import log
from adjudicator.audit.crosscheck import RowCheck
from adjudicator.audit.log import VerifyReport
from adjudicator.claims.crosscheck import first_claim_mismatch
from adjudicator.claims.events_crosscheck import first_event_mismatch, first_revision_mismatch
from adjudicator.db.store import Store
from adjudicator.decisions.crosscheck import first_decision_mismatch
from adjudicator.governance.crosscheck import first_activation_mismatch
from adjudicator.identity.crosscheck import first_key_mismatch, first_user_mismatch
from adjudicator.ledger.crosscheck import first_account_mismatch, first_ledger_entry_mismatch

ROW_CHECKS: tuple[RowCheck, ...] = (
    first_decision_mismatch,
    first_key_mismatch,
    first_user_mismatch,
    first_activation_mismatch,
    first_event_mismatch,
    first_revision_mismatch,
    first_claim_mismatch,
    first_ledger_entry_mismatch,
    first_account_mismatch,
)


def verify_audit(store: Store) -> VerifyReport:
    """The chain, its checkpoints and every row check (see ``audit.log.verify_audit``)."""
    return log.verify_audit(store, ROW_CHECKS)
