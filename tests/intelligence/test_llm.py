"""The optional LLM summary through an OpenAI-compatible endpoint (a real local HTTP server)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from octopushx.intelligence import AnalysisSettings, LLMError, LLMSettings, analyse, llm


class _Endpoint:
    """An OpenAI-compatible chat-completions server on 127.0.0.1; ``answers`` are given in turn
    (the last one repeats), ``delay`` seconds pass before each answer."""

    def __init__(self, status=200, answer="The customer paid their bill by card; the agent will send an invoice."):
        self.status, self.answer, self.requests = status, answer, []
        self.answers: list[str] = []
        self.delay = 0.0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if endpoint.delay:
                    time.sleep(endpoint.delay)
                answer = (
                    endpoint.answers.pop(0) if len(endpoint.answers) > 1 else (endpoint.answers or [endpoint.answer])[0]
                )
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": answer}}]})
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    server = _Endpoint()
    yield server
    server.close()


def test_summary_comes_from_the_endpoint(endpoint):
    text = llm.summarise("agent: hello\ncustomer: hi", LLMSettings(url=endpoint.url, model="m1", api_key="sk-1"))
    assert text.startswith("The customer paid")
    request = endpoint.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-1"
    assert request["body"]["model"] == "m1"
    assert request["body"]["messages"][-1]["content"] == "agent: hello\ncustomer: hi"


def test_http_error_raises_llm_error(endpoint):
    endpoint.status = 500
    with pytest.raises(LLMError, match="HTTP 500"):
        llm.summarise("agent: hello", LLMSettings(url=endpoint.url, model="m"))


def test_unreachable_endpoint_raises_llm_error():
    with pytest.raises(LLMError, match="could not be reached"):
        llm.summarise("agent: hi", LLMSettings(url="http://127.0.0.1:9/v1", model="m", timeout=2))


def test_non_http_url_is_refused():
    with pytest.raises(LLMError, match="http"):
        llm.summarise("agent: hi", LLMSettings(url="file:///etc/passwd", model="m"))


def _summary_json(**overrides) -> str:
    data = {
        "reason": "The customer wanted to pay their bill with a card.",
        "key_facts": ["The customer read out card [CARD] and gave their email."],
        "agreed": [],
        "next_steps": [{"owner": "agent", "action": "send an invoice", "due": "by Friday"}],
    }
    data.update(overrides)
    return json.dumps(data)


def test_pipeline_uses_llm_sends_redacted_text_and_keeps_key_out_of_provenance(endpoint, speech):
    endpoint.answer = _summary_json()
    settings = AnalysisSettings(llm=LLMSettings(url=endpoint.url, model="tiny-llm", api_key="secret-key"))
    result = analyse(speech["files"]["mono"]["wav"], channel_roles=None, settings=settings)
    assert result.insights.summary_source == "llm:tiny-llm"
    assert "Agent to send an invoice (by Friday)." in result.insights.summary
    assert "[CARD]" in result.insights.summary
    body = endpoint.requests[0]["body"]
    assert body["response_format"] == {"type": "json_object"}
    sent = body["messages"][-1]["content"]
    assert "[CARD]" in sent and "4916" not in sent.replace(" ", "")
    assert "secret-key" not in json.dumps(result.to_dict())


def test_pipeline_falls_back_to_offline_summary_when_llm_fails(endpoint, speech, tmp_path):
    endpoint.status = 503
    settings = AnalysisSettings(llm=LLMSettings(url=endpoint.url, model="m"))
    opening = tmp_path / "opening.flac"
    end = speech["turns"][2]["end"] + 0.3
    subprocess.run(
        ["sox", "-R", "-D", speech["files"]["mono"]["flac"], str(opening), "trim", "0", str(end)], check=True
    )
    result = analyse(opening, channel_roles=None, settings=settings)
    assert result.insights.summary_source in ("structured", "extractive") and result.insights.summary
    assert any("LLM summary unavailable" in w for w in result.warnings)
