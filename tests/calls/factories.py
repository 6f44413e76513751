"""Data for the calls tests: calls with an analysis saved through the real service."""

from __future__ import annotations

from octopushx import intelligence
from octopushx.calls import services
from octopushx.calls.models import Call, CallStatus
from octopushx.core.context import Actor

CALL_SCRIPT = [
    ("agent", "Thank you for calling Octopus Energy, my name is Sarah. How can I help you today?"),
    ("customer", "Hello, I would like to pay my bill with a card please."),
    ("agent", "Of course. Can you read me the long number on the card?"),
    ("customer", "Yes, it is four nine one six, three eight two seven, five zero six one, four seven two six."),
    ("agent", "Thank you. I will send you the receipt by Friday."),
    ("customer", "Perfect, thank you very much. Goodbye."),
]


def analysis(lines: list[tuple[str, str]], *, summary: str = "The customer paid a bill.") -> intelligence.CallAnalysis:
    """A CallAnalysis as the pipeline returns it, for tests that do not need real speech."""
    utterances = []
    start = 0.5
    for speaker, text in lines:
        end = start + max(1.0, len(text.split()) * 0.4)
        utterances.append(intelligence.Utterance(speaker, start, end, text, sentiment=0.3))
        start = end + 0.5
    insights = intelligence.Insights(
        summary=summary,
        action_items=[intelligence.ActionItem("Send the receipt by Friday", "agent", "by Friday", 3.0, "agent")],
        keywords=["bill", "card"],
        sentiment=intelligence.Sentiment(
            overall=0.3,
            by_speaker={"agent": 0.4, "customer": 0.2},
            timeline=[intelligence.SentimentPoint(1.0, "agent", 0.4)],
        ),
        metrics=intelligence.Metrics(duration=start, talk_ratio={"agent": 0.5, "customer": 0.5}, silence_ratio=0.2),
    )
    return intelligence.CallAnalysis(
        audio=intelligence.AudioInfo(duration=start, channels=2, sample_rate=16000, codec="pcm_s16le", container="wav"),
        utterances=utterances,
        insights=insights,
        redaction=intelligence.Redaction(),
        provenance=intelligence.Provenance("test", "tiny.en", "1", {}, {"model": "tiny.en"}, "channels"),
    )


def analysed_call(tenant, *, agent=None, contact=None, lines=None, direction="inbound", from_number="") -> Call:
    """A call in state analysed with its transcript lines (through ``services.save_result``)."""
    call = Call.objects.create(
        tenant=tenant,
        agent=agent,
        contact=contact,
        direction=direction,
        from_number=from_number,
        status=CallStatus.PROCESSING,
        filename="test.wav",
    )
    services.save_result(call, 1, None, analysis(lines or CALL_SCRIPT), [0.1, 0.5, 1.0])
    call.refresh_from_db()
    return call


def system() -> Actor:
    return Actor.system("test")
