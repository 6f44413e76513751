"""Shared pieces of the brand tests: a branded reseller, images and a DNS resolver that never leaves the process."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from octopushx.core.context import Actor
from octopushx.tenancy import branding
from octopushx.tenancy.models import BrandDomain, OrgKind
from tests.conftest import make_org

SYSTEM = Actor.system("test")


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (40, 20), color: str = "#4338ca") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(data: bytes, name: str = "logo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def make_reseller(name: str = "Northwind Telecom", product: str = "Northwind Voice", **fields):
    reseller = make_org(name, kind=OrgKind.RESELLER)
    if product:
        branding.update_brand(reseller, SYSTEM, product_name=product, **fields)
        reseller.refresh_from_db()
    return reseller


class FakeResolver:
    """Answers TXT lookups from a dict (name → values); counts the questions."""

    def __init__(self, records: dict[str, list[str]] | None = None):
        self.records = records or {}
        self.asked: list[str] = []

    def txt(self, name: str) -> list[str]:
        self.asked.append(name)
        return list(self.records.get(name, []))


class PublishedResolver(FakeResolver):
    """Every claimed domain has published its token (what an owner who followed the steps sees)."""

    def txt(self, name: str) -> list[str]:
        self.asked.append(name)
        return [d.record_value for d in BrandDomain.objects.all() if d.record_name == name]
