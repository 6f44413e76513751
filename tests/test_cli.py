"""The ``octopushx`` command line: happy paths in-process against the test database,
argument and configuration errors in real subprocesses (clear message, no traceback)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.test import Client

from octopushx import cli
from octopushx.accounts.models import User
from octopushx.core import blobs, crypto, keys
from octopushx.core.models import AuditEntry
from octopushx.tenancy.models import Membership, Organization
from tests.conftest import PASSWORD

UUID_LINE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def octopushx(capsys):
    """``octopushx("tenant", "create", ...)`` → (exit status, stdout, stderr), in this process."""

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:  # argparse
            code = exc.code
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    return run


def _script() -> list[str]:
    script = Path(sys.executable).with_name("octopushx")
    return [str(script)] if script.exists() else [sys.executable, "-m", "octopushx.cli"]


def run_process(*argv: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*_script(), *argv], capture_output=True, text=True, env=env or os.environ.copy(), timeout=timeout
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


# --- tenant, user, token ---------------------------------------------------------------


def test_tenant_create_prints_its_id(db, octopushx):
    code, out, err = octopushx(
        "tenant", "create", "--name", "Initech", "--admin-email", "boss@initech.test", "--password", PASSWORD
    )
    assert code == 0, err
    assert UUID_LINE.match(out.strip())
    org = Organization.objects.get(pk=out.strip())
    assert org.name == "Initech"
    assert Membership.objects.get(tenant=org).role == "owner"


def test_user_create_adds_a_member(org, octopushx):
    code, out, _ = octopushx(
        "user", "create", "--tenant", str(org.pk), "--email", "new@acme.test", "--role", "agent", "--password", PASSWORD
    )
    assert code == 0
    user = User.objects.get(pk=out.strip())
    assert user.email == "new@acme.test" and user.check_password(PASSWORD)
    assert Membership.objects.get(tenant=org, user=user).role == "agent"


def test_token_create_prints_a_working_token(org, octopushx):
    octopushx(
        "user", "create", "--tenant", str(org.pk), "--email", "api@acme.test", "--role", "admin", "--password", PASSWORD
    )
    code, out, _ = octopushx("token", "create", "--email", "api@acme.test", "--name", "ci")
    token = out.strip()
    assert code == 0 and token.startswith("opx_")
    me = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["tenant"]["id"] == str(org.pk) and me.json()["token"] == "ci"


def test_token_create_needs_tenant_when_user_has_several(org, other_org, octopushx):
    for tenant in (org, other_org):
        octopushx(
            "user",
            "create",
            "--tenant",
            str(tenant.pk),
            "--email",
            "two@x.test",
            "--role",
            "agent",
            "--password",
            PASSWORD,
        )
    code, _, err = octopushx("token", "create", "--email", "two@x.test")
    assert code == 1 and "belongs to 2 organisations; choose one with --tenant" in err
    code, out, _ = octopushx("token", "create", "--email", "two@x.test", "--tenant", str(other_org.pk))
    assert code == 0
    assert Client(HTTP_AUTHORIZATION=f"Bearer {out.strip()}").get("/api/v1/me").json()["tenant"]["id"] == str(
        other_org.pk
    )


def test_token_create_for_unknown_email(db, octopushx):
    code, _, err = octopushx("token", "create", "--email", "nobody@x.test")
    assert code == 1 and "No user with email nobody@x.test" in err


# --- audit -------------------------------------------------------------------------------


def test_audit_verify_ok_then_names_the_edited_entry(org, octopushx):
    code, out, _ = octopushx("audit", "verify", "--tenant", str(org.pk))
    assert code == 0 and out.startswith("ok") and str(org.pk) in out
    entry = AuditEntry.objects.filter(tenant=org).order_by("seq").first()
    AuditEntry.objects.filter(pk=entry.pk).update(action="organization.deleted")
    code, out, err = octopushx("audit", "verify", "--tenant", str(org.pk))
    assert code == 1
    assert f"BROKEN  {org.pk}" in out and f"entry {entry.seq}:" in out and "changed" in out
    assert "1 audit chain(s) are broken" in err


def test_audit_verify_reports_a_deleted_entry(org, octopushx):
    last = AuditEntry.objects.filter(tenant=org).order_by("-seq").first()
    AuditEntry.objects.filter(pk=last.pk).delete()
    code, out, _ = octopushx("audit", "verify")
    assert code == 1 and f"entry {last.seq}:" in out and "deleted" in out


# --- keys --------------------------------------------------------------------------------


def test_keys_rotate_keeps_data_readable(org, octopushx, settings):
    blob = blobs.store(org, b"recorded before rotation")
    old_key = Path(settings.MASTER_KEY_FILE).read_text()
    code, out, _ = octopushx("keys", "rotate")
    assert code == 0 and "Rewrapped" in out
    assert Path(settings.MASTER_KEY_FILE).read_text() != old_key
    keys._cache.clear()
    assert blobs.read_bytes(blob) == b"recorded before rotation"


def test_keys_rotate_with_key_from_environment(org, octopushx, settings, monkeypatch):
    first, second = crypto.generate_key_text(), crypto.generate_key_text()
    settings.MASTER_KEY = first
    keys._cache.clear()
    keys.check_master_key()
    blob = blobs.store(org, b"under the first key")
    settings.MASTER_KEY = second
    monkeypatch.setenv("OCTOPUSHX_MASTER_KEY_PREVIOUS", first)
    code, _, _ = octopushx("keys", "rotate")
    assert code == 0
    monkeypatch.delenv("OCTOPUSHX_MASTER_KEY_PREVIOUS")  # the old key is no longer needed
    keys._cache.clear()
    keys.check_master_key()
    assert blobs.read_bytes(blob) == b"under the first key"


def test_keys_generate_prints_a_new_key(octopushx):
    code, out, _ = octopushx("keys", "generate")
    assert code == 0 and len(base64.b64decode(out.strip(), validate=True)) == 32
    assert octopushx("keys", "generate")[1] != out


# --- demo --------------------------------------------------------------------------------


def test_demo_is_idempotent(db, octopushx):
    code, out, _ = octopushx("demo")
    assert code == 0 and "owner@acme.test" in out
    counts = (Organization.objects.count(), Membership.objects.count(), User.objects.count())
    code, _, _ = octopushx("demo")
    assert code == 0
    assert (Organization.objects.count(), Membership.objects.count(), User.objects.count()) == counts
    assert User.objects.get(email="owner@acme.test").check_password("demo-pass-2026")


def test_demo_output_names_the_users_and_no_address_yet(db, octopushx):
    code, out, _ = octopushx("demo")
    assert code == 0
    assert "password: demo-pass-2026" in out and "auditor@acme.test" in out
    assert "above" not in out  # nothing was printed above: serve prints the address


def test_banner_without_demo_data_gives_only_the_address(db):
    banner = cli._banner("127.0.0.1", 8123)
    assert "OctopushX is running on http://127.0.0.1:8123/ (Ctrl+C stops it)" in banner
    assert "Sign in" not in banner


def test_banner_with_demo_data_gives_the_sign_in_details(db, octopushx):
    octopushx("demo")
    banner = cli._banner("0.0.0.0", 8123)  # noqa: S104
    assert "OctopushX is running on http://127.0.0.1:8123/" in banner
    assert "listening on every interface" in banner
    assert "Sign in as owner@acme.test / demo-pass-2026" in banner
    assert "admin@acme.test" in banner and "auditor@acme.test" in banner


def test_banner_hides_the_demo_password_once_changed(db, octopushx):
    octopushx("demo")
    owner = User.objects.get(email="owner@acme.test")
    owner.set_password("a-new-secret-2026-x")
    owner.save()
    assert "demo-pass-2026" not in cli._banner("127.0.0.1", 8123)


def test_banner_never_gives_sign_in_details_in_production(db, octopushx, settings):
    octopushx("demo")
    settings.PRODUCTION = True
    assert "Sign in" not in cli._banner("127.0.0.1", 8123)


# --- bad arguments -----------------------------------------------------------------------


def test_unknown_tenant_id(db, octopushx):
    missing = str(uuid.uuid4())
    code, _, err = octopushx(
        "user", "create", "--tenant", missing, "--email", "a@b.test", "--role", "agent", "--password", PASSWORD
    )
    assert code == 1 and f"No organisation with id {missing}" in err
    code, _, err = octopushx("audit", "verify", "--tenant", "not-a-uuid")
    assert code == 1 and "No organisation with id not-a-uuid" in err


def test_bad_email(org, octopushx):
    code, _, err = octopushx(
        "user", "create", "--tenant", str(org.pk), "--email", "not-an-email", "--role", "agent", "--password", PASSWORD
    )
    assert code == 1 and "email: Enter a valid email address" in err
    assert not User.objects.filter(email="not-an-email").exists()


def test_weak_password(db, octopushx):
    code, _, err = octopushx("tenant", "create", "--name", "Weak", "--admin-email", "w@weak.test", "--password", "123")
    assert code == 1 and err.startswith("octopushx: error: password:")
    assert not Organization.objects.filter(name="Weak").exists()


def test_blank_tenant_name(db, octopushx):
    code, _, err = octopushx("tenant", "create", "--name", " ", "--admin-email", "a@b.test", "--password", PASSWORD)
    assert code == 1 and "name: A name is required" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (
            ["tenant", "create", "--admin-email", "a@b.test", "--password", "x"],
            "the following arguments are required: --name",
        ),
        (
            ["user", "create", "--tenant", "1", "--email", "a@b.test", "--role", "wizard", "--password", "x"],
            "invalid choice: 'wizard'",
        ),
        (["token", "create", "--email", "a@b.test", "--days", "soon"], "invalid int value: 'soon'"),
        (["serve", "--port", "http"], "invalid int value: 'http'"),
    ],
)
def test_bad_arguments_exit_2_with_usage(argv, message):
    result = run_process(*argv, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr and "usage: octopushx" in result.stderr


# --- configuration errors ----------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated_data_dir(tmp_path_factory):
    """A fresh embedded install (SQLite in its own data folder, key generated on first run)."""
    data_dir = tmp_path_factory.mktemp("cli-data")
    env = _embedded_env(data_dir)
    result = run_process("migrate", env=env)
    assert result.returncode == 0 and "Database is up to date." in result.stdout
    assert (data_dir / "master.key").exists() and (data_dir / "octopushx.sqlite3").exists()
    return data_dir


def _embedded_env(data_dir: Path, **extra: str) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("OCTOPUSHX_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    return {**env, "OCTOPUSHX_DATA_DIR": str(data_dir), "OCTOPUSHX_LOG_LEVEL": "WARNING", **extra}


@pytest.mark.slow
@pytest.mark.parametrize("command", [["migrate"], ["serve"], ["worker"]])
def test_wrong_master_key_is_a_configuration_error(migrated_data_dir, command):
    if command == ["serve"]:
        command = ["serve", "--port", str(_free_port())]
    env = _embedded_env(migrated_data_dir, OCTOPUSHX_MASTER_KEY=crypto.generate_key_text())
    result = run_process(*command, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("octopushx: configuration error: No configured master key has id")
    assert "Set OCTOPUSHX_MASTER_KEY to the key this database was written with" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("command", [["migrate"], ["serve"]])
def test_malformed_master_key_is_a_configuration_error(migrated_data_dir, command):
    if command == ["serve"]:
        command = ["serve", "--port", str(_free_port())]
    env = _embedded_env(migrated_data_dir, OCTOPUSHX_MASTER_KEY="not-a-key")
    result = run_process(*command, env=env)
    assert result.returncode == 2
    assert "configuration error: The master key in OCTOPUSHX_MASTER_KEY is not valid base64" in result.stderr


@pytest.mark.slow
def test_production_without_master_key_is_a_configuration_error(tmp_path):
    env = _embedded_env(tmp_path, OCTOPUSHX_ENV="production", OCTOPUSHX_SECRET_KEY="s" * 60)
    result = run_process("migrate", env=env, timeout=60)
    assert result.returncode == 2
    assert "OCTOPUSHX_MASTER_KEY or OCTOPUSHX_MASTER_KEY_FILE must be set in production" in result.stderr


@pytest.mark.slow
def test_unreachable_database_is_a_clear_error(tmp_path):
    env = _embedded_env(tmp_path, DATABASE_URL=f"postgres://postgres@127.0.0.1:{_free_port()}/nothing")
    result = run_process("migrate", env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("octopushx: cannot use the database (check DATABASE_URL): ")


def test_malformed_database_url_is_a_configuration_error(tmp_path):
    result = run_process("tenant", "list", env=_embedded_env(tmp_path, DATABASE_URL="mongodb://x"), timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("octopushx: configuration error: DATABASE_URL is not a database address")


# --- jobs and lists ------------------------------------------------------------------------


def test_jobs_run_drains_due_jobs(org, octopushx):
    from octopushx.core import jobs
    from octopushx.core.models import Job
    from tests.core.test_failed_jobs import always_fails  # noqa: F401  registers its handler

    job = jobs.submit("test.always_fails", tenant=org, max_attempts=1)
    code, out, _ = octopushx("jobs", "run")
    assert code == 0 and re.fullmatch(r"Ran [1-9][0-9]* job\(s\) and [0-9]+ workflow run\(s\)\.", out.strip())
    assert Job.objects.get(pk=job.pk).state == "failed"


def test_tenant_list(org, other_org, octopushx):
    code, out, _ = octopushx("tenant", "list")
    assert code == 0
    assert f"{org.pk}  customer  Acme Support" in out and f"{other_org.pk}  customer  Other Corp" in out


# --- serve: web and the embedded job consumer in one process ------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str) -> tuple[int, dict]:
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - local test server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.slow
def test_serve_on_a_port_in_use_is_a_clear_error(migrated_data_dir):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_process("serve", "--port", str(port), env=_embedded_env(migrated_data_dir))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"octopushx: error: cannot listen on 127.0.0.1:{port}: " in result.stderr
    assert "choose another --port" in result.stderr


@pytest.mark.slow
def test_serve_answers_and_runs_jobs_with_the_embedded_consumer(migrated_data_dir, tmp_path):
    import signal
    import time

    repo = Path(__file__).resolve().parents[1]
    env = _embedded_env(
        migrated_data_dir,
        OCTOPUSHX_JOB_MODULES="tests.core.crash_jobs",
        PYTHONPATH=os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
    )
    port = _free_port()
    server = subprocess.Popen(
        [*_script(), "serve", "--port", str(port)], env=env, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get_json(f"http://127.0.0.1:{port}/readyz")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "serve did not start"
                time.sleep(0.2)
        assert status == 200 and body["checks"]["queue"]["backend"] == "SqliteHuey"

        submit = (
            "from octopushx.core import jobs; import tests.core.crash_jobs; "
            f"jobs.submit('test.crash_effect', payload={{'folder': {str(tmp_path)!r}, 'before': 0, 'after': 0}})"
        )
        result = run_process("manage", "shell", "-c", submit, env=env)
        assert result.returncode == 0, result.stderr
        effects = tmp_path / "effects.log"
        deadline = time.monotonic() + 30
        while not effects.exists():
            assert time.monotonic() < deadline, "the embedded consumer did not run the job"
            time.sleep(0.2)
        assert len(effects.read_text().split()) == 1
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    output = server.stdout.read().decode()
    assert f"OctopushX is running on http://127.0.0.1:{port}/" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_serve_prints_one_banner_with_the_sign_in_details_once_ready(tmp_path):
    import signal
    import time

    env = _embedded_env(tmp_path, OCTOPUSHX_DEMO_CALLS="0")
    result = run_process("demo", env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    port = _free_port()
    server = subprocess.Popen(
        [*_script(), "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _body = _get_json(f"http://127.0.0.1:{port}/readyz")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "serve did not start"
                time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    output = server.stdout.read().decode()
    assert output.count("OctopushX is running on") == 1
    assert f"OctopushX is running on http://127.0.0.1:{port}/ (Ctrl+C stops it)" in output
    assert output.count("Sign in as owner@acme.test / demo-pass-2026") == 1
    assert output.index("Database is up to date.") < output.index("OctopushX is running on")
