"""`octopushx tenant export | terminate | terminations | certificate`."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta

import pytest

from octopushx import cli
from octopushx.shield.offboarding.models import Termination
from octopushx.tenancy.models import Organization
from tests.shield.offboarding_data import planted


@pytest.fixture
def octopushx(capsys):
    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:  # argparse
            code = exc.code
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    return run


def test_tenant_export_writes_the_zip(org, octopushx, tmp_path):
    planted(org)
    target = tmp_path / "acme.zip"
    code, out, _ = octopushx("tenant", "export", str(org.pk), "--out", str(target))
    assert code == 0 and "Wrote" in out
    with zipfile.ZipFile(target) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert any(entry["path"] == "tables/crm.contact.csv" and entry["rows"] == 1 for entry in manifest["files"])
    code, _, err = octopushx("tenant", "export", str(org.pk), "--out", str(target))
    assert code == 1 and "--force" in err
    code, _, err = octopushx("tenant", "export", "not-an-id", "--out", str(tmp_path / "x.zip"))
    assert code == 1 and "No organisation" in err


def test_tenant_terminate_needs_the_name_and_a_sane_notice(org, octopushx):
    code, _, err = octopushx("tenant", "terminate", str(org.pk))
    assert code == 1 and "--confirm" in err
    code, _, err = octopushx("tenant", "terminate", str(org.pk), "--confirm", org.name, "--notice-days", "500")
    assert code == 1 and "notice_days" in err
    assert not Termination.objects.exists()


def test_tenant_terminate_cancel_then_run_due_and_certificate(org, octopushx, tmp_path):
    code, out, _ = octopushx("tenant", "terminate", str(org.pk), "--confirm", org.name, "--notice-days", "7")
    assert code == 0 and "will be deleted on" in out
    code, out, _ = octopushx("tenant", "terminate", str(org.pk), "--cancel")
    assert code == 0 and "Cancelled" in out
    code, out, _ = octopushx("tenant", "terminate", str(org.pk), "--confirm", org.name)
    termination = Termination.objects.get(state="scheduled")
    code, out, _ = octopushx("tenant", "terminations", "--run-due")
    assert code == 0 and "0 organisation(s) deleted" in out  # notice not over yet
    Termination.objects.filter(pk=termination.pk).update(due_at=termination.requested_at - timedelta(seconds=1))
    code, out, _ = octopushx("tenant", "terminations", "--run-due")
    assert code == 0 and "1 organisation(s) deleted" in out
    assert not Organization.objects.filter(pk=org.pk).exists()
    code, out, _ = octopushx("tenant", "terminations")
    assert "completed" in out and "cancelled" in out
    target = tmp_path / "certificate.pdf"
    code, out, _ = octopushx("tenant", "certificate", str(termination.pk), "--out", str(target))
    assert code == 0 and target.read_bytes().startswith(b"%PDF")
