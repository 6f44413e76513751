"""A stored blob (an export file, an import's error report) streamed as a download, for pages and API."""

from __future__ import annotations

from django.http import StreamingHttpResponse

from octopushx.core import blobs
from octopushx.core.models import Blob


def blob_response(blob: Blob, content_type: str | None = None) -> StreamingHttpResponse:
    """Decrypt the blob chunk by chunk into an attachment named after its stored file name."""
    response = StreamingHttpResponse(blobs.read(blob), content_type=content_type or blob.content_type)
    response["Content-Disposition"] = f'attachment; filename="{blob.filename}"'
    return response
