"""Shield's tables; each domain keeps its models in its own package and is listed here."""

from octopushx.shield.legal.models import Acceptance, LegalDocument

__all__ = ["Acceptance", "LegalDocument"]
