"""The records-of-processing page and its CSV export (owners, admins, auditors)."""

from __future__ import annotations

from itertools import groupby

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from octopushx.shield.records import services
from octopushx.tenancy.roles import Perm
from octopushx.tenancy.views import requires


@requires(Perm.AUDIT)
def records_page(request):
    rows = services.register(request.tenant)
    sections = [(name, list(items)) for name, items in groupby(rows, key=lambda r: r.section)]
    return render(request, "shield/records.html", {"sections": sections, "generated": timezone.now()})


@requires(Perm.AUDIT)
def records_csv(request):
    body = services.export_csv(request.tenant, request.actor)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="records-of-processing-{stamp}.csv"'
    return response


@requires(Perm.AUDIT)
def records_pdf(request):
    response = HttpResponse(services.export_pdf(request.tenant, request.actor), content_type="application/pdf")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="records-of-processing-{stamp}.pdf"'
    return response
