"""deploy/: the proxy configuration holds the application's limits, compose.yaml and local-cluster
describe the same shape, and local-cluster stops only the processes it recorded."""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def local_cluster():
    loader = importlib.machinery.SourceFileLoader("local_cluster", str(DEPLOY / "local-cluster"))
    spec = importlib.util.spec_from_loader("local_cluster", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def cluster_args(**overrides) -> argparse.Namespace:
    values = {"port": 8080, "web_ports": "8101,8102", "gunicorn_workers": 2, "gunicorn_threads": 32}
    return argparse.Namespace(**(values | overrides))


def directive(text: str, name: str) -> str:
    found = re.search(rf"^\s*{name}\s+([^;]+);", text, re.MULTILINE)
    assert found, name
    return found.group(1).strip()


def test_nginx_conf_limits_bodies_as_the_application_does_by_default():
    from django.conf import settings

    text = (DEPLOY / "nginx.conf").read_text()

    assert directive(text, "client_max_body_size") == f"{settings.MAX_UPLOAD_BYTES // (1024 * 1024)}m"
    assert directive(text, "client_body_timeout") == f"{settings.REQUEST_READ_TIMEOUT}s"


def test_nginx_conf_passes_the_forwarded_headers_the_application_trusts():
    text = (DEPLOY / "nginx.conf").read_text()

    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text  # never a client-sent chain
    assert "proxy_set_header X-Forwarded-Host $host;" in text
    assert re.search(r"location /static/ \{\s*alias ", text)


def test_nginx_passes_the_caller_cards_event_stream_unbuffered():
    text = (DEPLOY / "nginx.conf").read_text()
    stream = re.search(r"location /telephony/live/stream/ \{(.*?)\}", text, re.DOTALL)
    assert stream, "no location for the live event stream"
    assert "proxy_buffering off;" in stream.group(1)
    read_timeout = int(directive(stream.group(1), "proxy_read_timeout").rstrip("s"))
    from django.conf import settings

    assert read_timeout > settings.LIVE_HEARTBEAT_SECONDS * 2


def test_local_cluster_nginx_takes_the_upload_limit_from_the_environment(tmp_path):
    module = local_cluster()
    env = {"OCTOPUSHX_MAX_UPLOAD_MB": "64", "OCTOPUSHX_REQUEST_READ_TIMEOUT": "12"}

    text = module.nginx_conf(cluster_args(), tmp_path, env)

    assert directive(text, "client_max_body_size") == "64m"
    assert directive(text, "client_body_timeout") == "12s"
    assert "server 127.0.0.1:8101" in text and "server 127.0.0.1:8102" in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(), reason="no nginx")
def test_local_cluster_nginx_conf_is_valid_for_nginx(tmp_path):
    module = local_cluster()
    for folder in ("logs", "nginx"):
        (tmp_path / folder).mkdir()
    (tmp_path / "nginx.conf").write_text(module.nginx_conf(cluster_args(), tmp_path, {}))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"

    done = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path / "nginx")], capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr


def test_compose_has_the_shape_of_the_local_cluster():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]

    assert {"proxy", "web1", "web2", "worker", "postgres", "redis", "minio"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["web1"]["command"] == services["web2"]["command"]
    module = local_cluster()
    local = " ".join(module.gunicorn_command(cluster_args(), 8101, Path("access.log"))[1:])
    for setting in ("--workers 2", "--threads 32", "--timeout 120", "--graceful-timeout 30", "--max-requests 5000"):
        assert setting in services["web1"]["command"]
        assert setting in local
    assert services["web1"]["environment"]["OCTOPUSHX_TRUST_PROXY"] == "1"


def test_local_cluster_stop_leaves_a_process_it_did_not_start(tmp_path):
    module = local_cluster()
    (tmp_path / "pids").mkdir()
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        # The recorded pid now runs another program (pid reuse): stop must not signal it.
        (tmp_path / "pids" / "web1.pid").write_text(f"{stranger.pid}\ngunicorn\n")

        module.stop(cluster_args(), tmp_path)

        assert stranger.poll() is None
        assert not (tmp_path / "pids" / "web1.pid").exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_local_cluster_stop_ends_a_process_it_started(tmp_path):
    module = local_cluster()
    for folder in ("pids", "logs"):
        (tmp_path / folder).mkdir()
    sleeper = shutil.which("sleep")
    module.launch(tmp_path, "worker1", [sleeper, "30"], dict(os.environ))
    pid = int((tmp_path / "pids" / "worker1.pid").read_text().split()[0])

    module.stop(cluster_args(), tmp_path)

    assert not module.alive(pid, "sleep")
