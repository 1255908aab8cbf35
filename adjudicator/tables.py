"""Every capability's tables, so that ``Base.metadata`` describes the whole schema.

The migrations' environment, the composition roots (the API, the CLI, the
worker) and the schema test import this module; a capability imports only the
tables it uses. A new capability's models module is added here, once.
"""

from __future__ import annotations

from adjudicator.audit import models as audit_models
from adjudicator.claims import models as claims_models
from adjudicator.db import readiness_models
from adjudicator.db.models import Base
from adjudicator.decisions import models as decisions_models
from adjudicator.governance import models as governance_models
from adjudicator.identity import models as identity_models
from adjudicator.ledger import models as ledger_models
from adjudicator.webhooks import models as webhooks_models

metadata = Base.metadata
MODULES = (
    audit_models,
    claims_models,
    decisions_models,
    governance_models,
    identity_models,
    ledger_models,
    readiness_models,
    webhooks_models,
)
