"""Privacy requests carried out end to end, for tests in any app."""

from __future__ import annotations

import io
import zipfile

from octopushx.core import blobs, jobs
from octopushx.core.context import Actor
from octopushx.shield.privacy import services as privacy

SYSTEM = Actor.system("test")


def fulfilled(org, kind: str, **identity):
    """A staff-received, identity-checked request of ``kind``, fulfilled (an erasure confirmed) and its jobs run."""
    request = privacy.attest(org, SYSTEM, privacy.receive(org, SYSTEM, kind=kind, source="staff", **identity), "ID")
    privacy.fulfil(org, SYSTEM, request, confirmed=True)
    jobs.drain()
    request.refresh_from_db()
    assert request.state == "completed", request.result
    return request


def archive_of(request) -> dict[str, bytes]:
    """The files of an access request's archive, by name."""
    data = b"".join(blobs.read(request.result_blob))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
