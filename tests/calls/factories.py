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


def unsure_roles(lines: list[tuple[str, str]] | None = None) -> intelligence.CallAnalysis:
    """A mono analysis whose two voices separated but whose roles were not confident."""
    named = [("speaker1" if who == "agent" else "speaker2", text) for who, text in lines or CALL_SCRIPT]
    result = analysis(named)
    result.insights.metrics.talk_ratio = {"speaker1": 0.77, "speaker2": 0.23}
    result.insights.action_items = []
    result.insights.sentiment = intelligence.Sentiment(
        overall=0.3,
        by_speaker={"speaker1": 0.4, "speaker2": 0.2},
        timeline=[intelligence.SentimentPoint(1.0, "speaker1", 0.4), intelligence.SentimentPoint(8.0, "speaker2", 0.2)],
    )
    result.provenance.diarisation = "clustering"
    result.speakers = intelligence.Speakers("clustering", False, "order", 0.31, 0.19)
    result.warnings = [
        "The speakers could not be told apart as agent and customer (role confidence 0.31); "
        "they are labelled Speaker 1 and Speaker 2"
    ]
    return result


def analysed_call(
    tenant, *, agent=None, contact=None, lines=None, direction="inbound", from_number="", result=None
) -> Call:
    """A call in state analysed with its transcript lines (through ``services.save_result``);
    ``result`` is the CallAnalysis to store (by default one of ``lines``, roles from channels)."""
    call = Call.objects.create(
        tenant=tenant,
        agent=agent,
        contact=contact,
        direction=direction,
        from_number=from_number,
        status=CallStatus.PROCESSING,
        filename="test.wav",
    )
    services.save_result(call, 1, None, result or analysis(lines or CALL_SCRIPT), [0.1, 0.5, 1.0])
    call.refresh_from_db()
    return call


def system() -> Actor:
    return Actor.system("test")
