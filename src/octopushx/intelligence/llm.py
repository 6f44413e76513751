"""Optional summary by a large language model behind any OpenAI-compatible HTTP endpoint.

Never required: the pipeline calls it only when ``AnalysisSettings.llm`` is set, sends the
already-redacted transcript, and falls back to the extractive summary on any failure.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from octopushx.intelligence.config import LLMSettings
from octopushx.intelligence.errors import LLMError

PROMPT = (
    "You summarise customer service phone calls for the agent's CRM. Write 2 to 4 plain sentences: "
    "why the customer called, what was done or agreed, and any follow-up with its owner and deadline. "
    "Do not invent details. Keep tags such as [CARD] or [EMAIL] as they are."
)


def summarise(transcript: str, settings: LLMSettings) -> str:
    """The model's summary of ``transcript`` (lines of "speaker: text"); raises :class:`LLMError`."""
    return chat(PROMPT, transcript[: settings.max_transcript_chars], settings, max_tokens=400)


def chat(system: str, user: str, settings: LLMSettings, *, max_tokens: int = 400, json_mode: bool = False) -> str:
    """One chat completion's text; raises :class:`LLMError` on any failure or an empty answer."""
    url = settings.url.rstrip("/")
    if not url.endswith("/chat/completions"):
        url += "/chat/completions"
    if urlsplit(url).scheme not in ("http", "https"):
        raise LLMError(f"The LLM URL must be http or https, not {settings.url!r}")
    body = {
        "model": settings.model,
        "temperature": 0.2,
        "max_tokens": max_tokens,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user[: settings.max_transcript_chars]},
        ],
    }
    if json_mode:
        body["response_format"] = {"type": "json_object"}
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310 (scheme checked above)
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as response:  # noqa: S310
            payload = json.loads(response.read(2_000_000))
    except urllib.error.HTTPError as exc:
        raise LLMError(f"The LLM endpoint answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise LLMError(f"The LLM endpoint could not be reached ({exc})") from exc
    except ValueError as exc:
        raise LLMError("The LLM endpoint did not answer JSON") from exc
    try:
        text = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMError("The LLM answer has no choices[0].message.content") from exc
    if not isinstance(text, str) or not text.strip():
        raise LLMError("The LLM answered an empty text")
    return text.strip()
