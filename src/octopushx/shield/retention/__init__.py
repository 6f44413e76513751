"""Retention: per-tenant policies per data class, legal holds, and the daily purge.

Products contribute their data classes from their own ``retention.py`` (autodiscovered, so
Shield imports no product)::

    from octopushx.shield import retention
    retention.register("recordings", finder, purger, label="Call recordings", default_days=365)
    retention.register_hold_target("call", lambda tenant, object_id: ...)  # a hold can name a call

``finder(tenant, cutoff, holds)`` returns what is older than ``cutoff`` and not held (a
queryset or a list); ``purger(tenant, items)`` deletes or anonymises them and returns how many.
"""

from octopushx.shield.retention.registry import DataClass, Holds, data_classes, register, register_hold_target

__all__ = ["DataClass", "Holds", "data_classes", "register", "register_hold_target"]
