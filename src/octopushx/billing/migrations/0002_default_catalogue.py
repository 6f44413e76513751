"""Seed catalogue version 1 (Starter, Team, Enterprise and the add-ons in GBP) so `octopushx migrate` sells."""

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    from octopushx.billing.catalogue import DEFAULT_CATALOGUE, write_version

    if apps.get_model("billing", "CatalogueVersion").objects.exists():
        return
    models = {name: apps.get_model("billing", name) for name in ("CatalogueVersion", "Plan", "AddOn", "Price")}
    write_version(
        models, DEFAULT_CATALOGUE, number=1, note="Default catalogue", by="octopushx migrate", at=timezone.now()
    )


def unseed(apps, schema_editor):
    version = apps.get_model("billing", "CatalogueVersion").objects.filter(number=1).first()
    if version is not None and not apps.get_model("billing", "Subscription").objects.filter(version=version).exists():
        apps.get_model("billing", "Price").objects.filter(plan__version=version).delete()
        apps.get_model("billing", "Price").objects.filter(addon__version=version).delete()
        apps.get_model("billing", "Plan").objects.filter(version=version).delete()
        apps.get_model("billing", "AddOn").objects.filter(version=version).delete()
        version.delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
