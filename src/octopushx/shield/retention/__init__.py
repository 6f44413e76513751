"""Retention: per-tenant policies per data class, legal holds, and the daily purge.

Apps contribute their data classes through the registry::

    from octopushx.shield import retention
    retention.register("recordings", finder, purger, label="Call recordings", default_days=365)

``finder(tenant, cutoff, holds)`` returns what is older than ``cutoff`` and not held (a
queryset or a list); ``purger(tenant, items)`` deletes or anonymises them and returns how many.
"""

from octopushx.shield.retention.registry import DataClass, Holds, data_classes, register

__all__ = ["DataClass", "Holds", "data_classes", "register"]
