"""Shield's tables; each domain keeps its models in its own package and is listed here."""

from octopushx.shield.legal.models import Acceptance, LegalDocument
from octopushx.shield.monitoring.models import SecurityAlert
from octopushx.shield.offboarding.models import Termination
from octopushx.shield.privacy.models import PrivacyRequest
from octopushx.shield.retention.models import LegalHold, RetentionPolicy, RetentionRun
from octopushx.shield.seats.models import SecurityPolicy, Subscription

__all__ = [
    "PrivacyRequest",
    "LegalHold",
    "RetentionPolicy",
    "RetentionRun",
    "Acceptance",
    "LegalDocument",
    "SecurityAlert",
    "SecurityPolicy",
    "Subscription",
    "Termination",
]
