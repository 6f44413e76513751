"""Issue 11 findings 4 and 8: rows are counted by the job within limits; an oversized cell is a 422."""

import io

from octopushx.core import jobs
from octopushx.crm.imports import files
from octopushx.crm.models import Contact, Import

from .test_imports import upload


def _xlsx(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_the_request_does_not_read_every_row(admin_api, org, monkeypatch):
    read = {"rows": 0}
    original = files.Table.__iter__

    def counting(self):
        for row in original(self):
            read["rows"] += 1
            yield row

    monkeypatch.setattr(files.Table, "__iter__", counting)
    data = ("email\n" + "".join(f"p{i}@example.com\n" for i in range(500))).encode()
    response = upload(admin_api, data)
    assert response.status_code == 201, response.json()
    assert read["rows"] <= 10  # the sample only; the job counts the rest
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert (record.total, record.created) == (500, 500)


def test_blank_rows_past_the_row_cap_stop_the_job_with_a_message(admin_api, org, monkeypatch):
    monkeypatch.setattr(files, "MAX_ROWS", 12000)
    data = _xlsx([["email"], ["a@example.com"]] + [[None, None, " "]] * 15000)
    response = upload(admin_api, data, name="blank.xlsx")
    assert response.status_code == 201, response.json()
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert record.status == "failed" and "more than 12,000 rows" in record.error
    assert not Contact.objects.for_tenant(org).exists()  # stopped before writing anything


def test_header_only_workbook_full_of_blank_rows_is_not_read_in_the_request(admin_api, org, monkeypatch):
    monkeypatch.setattr(files, "MAX_ROWS", 50000)
    data = _xlsx([["email"]] + [[" "]] * 20000)
    response = upload(admin_api, data, name="blank.xlsx")
    assert response.status_code == 201
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert record.status == "failed" and "no data rows" in record.error


def test_uncompressed_size_cap(admin_api, org, monkeypatch):
    monkeypatch.setattr(files, "MAX_UNCOMPRESSED_BYTES", 2000)
    data = _xlsx([["email"]] + [[f"p{i}@example.com"] for i in range(200)])
    response = upload(admin_api, data, name="big.xlsx")
    assert response.status_code == 422 and "unpacks to" in response.json()["errors"]["file"][0]


def test_a_cell_over_the_limit_is_422_with_row_and_column(admin_api, org):
    long = "x" * 131_073
    response = upload(admin_api, f"first name,notes\nAda,short\nBob,{long}\n".encode())
    assert response.status_code == 422, response.status_code
    message = response.json()["errors"]["file"][0]
    assert "Row 3" in message and "'notes'" in message and "131,072" in message
    assert not Import.objects.for_tenant(org).exists()


def test_a_long_cell_far_down_fails_the_import_before_any_write(admin_api, org):
    rows = "".join(f"P{i},p{i}@example.com\n" for i in range(30)) + "Z,z@example.com," + "y" * 200_000 + "\n"
    response = upload(admin_api, ("first name,email,notes\n" + rows).encode())
    assert response.status_code == 201
    jobs.drain()
    record = Import.objects.for_tenant(org).get()
    assert record.status == "failed" and "Row 32, column 'notes'" in record.error
    assert not Contact.objects.for_tenant(org).exists()
