"""Issue 11 finding 13: a non-UTF-8 CSV is read in its own encoding, shown in the preview, or refused."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from octopushx.core import jobs
from octopushx.crm.models import Contact, Import

from .test_imports import upload

JAPANESE = "姓,名,メール,会社\n山田,太郎,taro@example.jp,株式会社サンプル\n佐藤,花子,hanako@example.jp,東京商事\n"


def test_shift_jis_csv_is_imported_without_mojibake(admin_api, org):
    mapping = '{"姓": "last_name", "名": "first_name", "メール": "email", "会社": "company"}'
    response = upload(admin_api, JAPANESE.encode("shift_jis"), mapping=mapping)
    assert response.status_code == 201, response.json()
    assert response.json()["encoding"] in ("cp932", "shift_jis")
    jobs.drain()
    taro = Contact.objects.for_tenant(org).get(email="taro@example.jp")
    assert (taro.last_name, taro.first_name, taro.company.name) == ("山田", "太郎", "株式会社サンプル")


def test_the_preview_names_the_encoding(web_as, org):
    client = web_as("admin")
    client.post(reverse("crm:imports"), {"file": SimpleUploadedFile("jp.csv", JAPANESE.encode("shift_jis"))})
    record = Import.objects.for_tenant(org).get()
    page = client.get(reverse("crm:import", args=[record.pk])).content.decode()
    assert "Shift-JIS" in page and "山田" in page


def test_western_windows_files_still_read_as_windows_1252(admin_api, org):
    upload(
        admin_api,
        "first name,last name,email\nZoë,Brontë,zoe@example.com\nŠárka,Œuvre,s@example.com\n".encode("cp1252"),
    )
    jobs.drain()
    assert Contact.objects.for_tenant(org).filter(first_name__in=["Zoë", "Šárka"]).count() == 2


def test_a_file_whose_encoding_cannot_be_told_is_refused(admin_api, org):
    data = b"name,email\n" + bytes(range(0x80, 0x100)) * 20 + b",x@example.com\n"
    response = upload(admin_api, data)
    assert response.status_code == 422 and "UTF-8" in response.json()["errors"]["file"][0]
    assert not Import.objects.for_tenant(org).exists()
