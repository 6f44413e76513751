"""Demo calls: a dozen short conversations spoken by espeak-ng, run through the real pipeline and
linked to demo contacts by their numbers, so a new user sees Octopush X working at once.

Idempotent (each demo call has a fixed provider id); skipped with a message when espeak-ng is
not installed. ``OCTOPUSHX_DEMO_CALLS`` sets how many calls are made (0 turns it off).
"""

from __future__ import annotations

import shutil
import subprocess  # nosec B404
import tempfile
import wave
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone

from octopushx.calls import services
from octopushx.calls.models import Call, Provider
from octopushx.core import jobs
from octopushx.core.context import Actor
from octopushx.core.models import Job

RATE = 16000
VOICES = {"agent": "en-gb+f2", "customer": "en-us"}
CUSTOMERS = [
    "Olivia Brown",
    "Jack Wilson",
    "Amelia Taylor",
    "Harry Davies",
    "Isla Evans",
    "Noah Thomas",
    "Ava Roberts",
    "Leo Johnson",
    "Mia Walker",
    "Oscar Wright",
    "Emily Green",
    "George Hall",
]
SCRIPTS = [
    [
        ("agent", "Good morning, Acme Support, this is Alex. How can I help?"),
        ("customer", "Hi, I want to pay my overdue bill by card please."),
        ("agent", "Of course. Please read me the card number."),
        ("customer", "It is four nine one six, three eight two seven, five zero six one, four seven two six."),
        ("agent", "Thank you, the payment went through. I will email the receipt by Friday."),
    ],
    [
        ("agent", "Acme Support, Sam speaking."),
        ("customer", "This is the third time my internet has dropped this week. I am really frustrated."),
        ("agent", "I am sorry about that. I will send an engineer tomorrow morning."),
        ("customer", "Fine, but please make sure they actually turn up this time."),
    ],
    [
        ("agent", "Hello, thanks for calling Acme sales. What can I do for you?"),
        ("customer", "We are looking at your business plan for twenty people. What does it cost?"),
        ("agent", "It is twelve pounds per user a month. I can send you a quote today."),
        ("customer", "Great, please send it to my email and I will review it with my team."),
    ],
    [
        ("agent", "Acme Support, how can I help you today?"),
        ("customer", "I moved house and need to change my address on the account."),
        ("agent", "No problem. What is the new postcode?"),
        ("customer", "It is S W one A, one A A."),
        ("agent", "Done. You will get a confirmation letter next week."),
    ],
]


def _speak(text: str, voice: str, folder: Path, name: str) -> np.ndarray:
    target = folder / f"{name}.wav"
    program = shutil.which("espeak-ng") or "espeak-ng"
    command = [program, "-v", voice, "-s", "155", "-w", str(target), text]
    subprocess.run(command, check=True, capture_output=True, timeout=60)  # noqa: S603  # nosec B603
    with wave.open(str(target)) as clip:
        rate = clip.getframerate()
        samples = np.frombuffer(clip.readframes(clip.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    if rate != RATE:
        positions = np.linspace(0, samples.size - 1, int(samples.size * RATE / rate))
        samples = np.interp(positions, np.arange(samples.size), samples).astype(np.float32)
    return samples


def synthesise(turns: list[tuple[str, str]], path: Path) -> None:
    """A stereo WAV with the agent on the left channel and the customer on the right."""
    clips = [
        (speaker, _speak(text, VOICES[speaker], path.parent, f"{path.stem}-{i}"))
        for i, (speaker, text) in enumerate(turns)
    ]
    gap = int(0.4 * RATE)
    stereo = np.zeros((2, gap + sum(len(c) + gap for _s, c in clips)), dtype=np.float32)
    cursor = gap
    for speaker, clip in clips:
        stereo[0 if speaker == "agent" else 1, cursor : cursor + len(clip)] = clip
        cursor += len(clip) + gap
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(stereo.T, -1, 1) * 32767).astype(np.int16).tobytes())


def _contact(tenant, actor: Actor, index: int):
    number = f"+44207946{index + 1:04d}"
    found = services.match_contact(tenant, number)
    if found is not None:
        return found
    from octopushx.crm import services as crm

    first, last = CUSTOMERS[index % len(CUSTOMERS)].split()
    return crm.create_contact(tenant, actor, {"first_name": first, "last_name": last, "phone": number})


def load(tenant, count: int | None = None) -> str:
    """Make up to ``count`` analysed demo calls in ``tenant``; returns a line for the demo summary."""
    count = settings.CALLS_DEMO_CALLS if count is None else count
    from octopushx.calls.services import scorecards

    scorecards.ensure_example(tenant)
    if count <= 0:
        return "Demo calls: skipped (OCTOPUSHX_DEMO_CALLS=0)."
    if shutil.which("espeak-ng") is None:
        return "Demo calls: skipped, espeak-ng is not installed (apt-get install espeak-ng)."
    actor = Actor.system("demo")
    agents = [m for m in tenant.memberships.select_related("user") if m.role == "agent"] or list(
        tenant.memberships.all()
    )
    made = 0
    with tempfile.TemporaryDirectory(prefix="octopushx-demo-calls-") as tmp:
        folder = Path(tmp)
        cache: dict[int, Path] = {}
        for index in range(count):
            external_id = f"demo-call-{index + 1}"
            if services.existing_call(tenant, Provider.UPLOAD, external_id) is not None:
                continue
            script_index = index % len(SCRIPTS)
            if script_index not in cache:
                cache[script_index] = folder / f"script-{script_index}.wav"
                synthesise(SCRIPTS[script_index], cache[script_index])
            contact = _contact(tenant, actor, index)
            agent = agents[index % len(agents)].user if agents else None
            path = cache[script_index]
            with path.open("rb") as handle:
                call, _created = services.upload_call(
                    tenant,
                    actor,
                    handle,
                    filename=f"demo-{index + 1}.wav",
                    size=path.stat().st_size,
                    content_type="audio/wav",
                    data={
                        "external_id": external_id,
                        "direction": "inbound" if index % 3 else "outbound",
                        "contact_id": str(contact.pk),
                        "agent_email": agent.email if agent else "",
                        "started_at": (timezone.now() - timedelta(days=index, hours=index % 5)).isoformat(),
                    },
                )
            for job in Job.objects.filter(kind="calls.process", payload__call_id=str(call.pk)):
                jobs.run(job.pk)
            made += 1
    analysed = Call.objects.for_tenant(tenant).filter(external_id__startswith="demo-call-", status="analysed").count()
    scored = score_demo_calls(tenant)
    return f"Demo calls: {made} new, {analysed} analysed, {scored} QA-scored in {tenant.name} (Calls in the menu)."


def score_demo_calls(tenant, limit: int = 4) -> int:
    """Score a few analysed demo calls on the example scorecard, as the demo manager would: the AI's
    suggestions where it has evidence, the best answer elsewhere; one acknowledged, one disputed."""
    from octopushx.calls import scoring
    from octopushx.calls.models import CallScore
    from octopushx.calls.services import scorecards

    card = scorecards.scorecards(tenant).filter(name=scorecards.EXAMPLE_NAME).first()
    reviewer = tenant.memberships.filter(role="manager").select_related("user").first()
    if card is None or reviewer is None:
        return 0
    calls = (
        Call.objects.for_tenant(tenant)
        .filter(external_id__startswith="demo-call-", status="analysed", agent__isnull=False)
        .exclude(agent=reviewer.user)
        .exclude(scores__scorecard=card)
        .order_by("external_id")[:limit]
    )
    definition = scoring.Definition.model_validate(card.definition)
    actor = Actor(user=reviewer.user)
    for index, call in enumerate(calls):
        if card not in scorecards.applicable(call):
            continue
        suggested = scorecards.suggest(call, card)
        answers = {
            q.id: {"value": suggested[q.id]["value"] if q.id in suggested else q.options[0].value}
            for q in definition.questions()
        }
        scorecards.save_answers(tenant, actor, call, card, {"answers": answers, "submit": True})
        agent = Actor(user=call.agent)
        if index == 1:
            scorecards.acknowledge(tenant, agent, call, card)
        elif index == 2:
            scorecards.dispute(tenant, agent, call, card, "empathy", "I apologised to the customer at the start.")
    return CallScore.objects.for_tenant(tenant).filter(scorecard=card).count()
