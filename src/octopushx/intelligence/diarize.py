"""Who spoke when: channel roles for dual-channel calls, clustering for mono recordings.

Mono method: the speech the recogniser found (word timings, merged where the pause is under a
quarter second) is cut into pieces of at most two seconds. Each piece is described by the mean
and spread of its 13 MFCCs (mel filters up to 4 kHz, so 8 kHz telephone audio works) and its
median pitch; the features are standardised (clipped at ``Z_LIMIT`` so that one odd piece, such
as a pitch octave error, cannot become a "speaker" of its own) and clustered into two groups with
k-means (several seeded starts, best inertia). If the silhouette of the two groups is below
``MIN_SILHOUETTE``, or one group holds under 10 % of the speech, the speakers are not separable
and every word is labelled ``unknown`` rather than guessed.

Roles (documented for users): the call's opening decides. In the speech of the first
``OPENING_SECONDS``, the group that greets ("thank you for calling", "<name> speaking", "how can I
help", "you're through to"…) is the agent and the group that opens a request ("I would like…",
"I'm calling about…") is the customer. Without a greeting, phrases over the whole call and then
who spoke first (the agent answers an inbound call) are weaker evidence. The role confidence
(0..1) is that evidence times how clearly the voices separate (the silhouette between
``MIN_SILHOUETTE`` and ``CLEAR_SILHOUETTE``); under ``MIN_ROLE_CONFIDENCE`` the roles are not
guessed: the two groups are labelled ``speaker1`` and ``speaker2`` (in the order they first
speak) and the pipeline says so in a warning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.fft import dct

from octopushx.intelligence.audio import SAMPLE_RATE
from octopushx.intelligence.config import UNKNOWN
from octopushx.intelligence.results import Word

MIN_SILHOUETTE = 0.15
CLEAR_SILHOUETTE = 0.35  # at or above: the voices are fully clear for the role confidence
MIN_SHARE = 0.10
PIECE_SECONDS = 2.0
JOIN_GAP = 0.25
Z_LIMIT = 2.5  # standardised features are clipped to ±Z_LIMIT before clustering
OPENING_SECONDS = 30.0  # the greeting is looked for in the speech of the call's first half minute
MIN_ROLE_CONFIDENCE = 0.6
SPEAKER_LABELS = ("speaker1", "speaker2")  # two separated voices whose roles are not known

# How strongly each kind of evidence tells the agent from the customer (before the voices' clarity).
EVIDENCE = {
    "greeting": 1.0,  # one group greets, the other opens a request, nothing contradicts
    "greeting-contested": 0.8,  # the same, but the other group also has a few such phrases
    "greeting-one-sided": 0.8,  # only the greeting (or only the request), in one group
    "greeting-mixed": 0.5,  # phrases of both kinds in one group, but one side outweighs
    "phrases": 0.5,  # no decision in the opening; agent phrases over the whole call
    "order": 0.3,  # nothing said decides: who spoke first
}


@dataclass
class Piece:
    """A stretch of speech (seconds) and the indexes of the words inside it."""

    start: float
    end: float
    words: list[int]


# Said by the agent at the start of a call (regular expressions over lower-case words).
GREETING_PATTERNS = (
    r"thanks? you for calling",
    r"thanks for calling",
    r"(?<!was )(?<!were )(?<!been )(?<!am )(?<!i'm )(?<!are )\bspeaking\b",
    r"how (can|may|could) i (help|assist)",
    r"how can we help",
    r"what can i do for you",
    r"you're through to|you are through to",
    r"welcome to",
)
# Said by the customer when stating why they call.
REQUEST_PATTERNS = (
    r"i would like|i'd like",
    r"i want to|i wanted to",
    r"i'm calling about|i am calling about|i'm calling because|i am calling because",
    r"i'm ringing about|i am ringing about",
    r"i need",
    r"i have a problem|i've got a problem|i have a question",
    r"my (account|bill|card|order|internet|broadband|contract)",
)
# Said by agents later in a call, and by customers: the weaker whole-call evidence.
LATER_AGENT_PATTERNS = (
    r"is there anything else",
    r"can i (take|have) your",
    r"can you confirm",
    r"for security",
    r"bear with me",
    r"let me (have a look|check)",
    r"have a (lovely|great|nice) day",
    r"you are welcome|you're welcome",
)
LATER_CUSTOMER_PATTERNS = (r"can i get", r"i'm really|i am really")
# On an outbound call the agent is the one who explains why they call. ("My name is…" is said by
# both sides too often to count, and on an inbound call "calling from…" is usually the customer.)
OUTBOUND_AGENT_PATTERNS = (r"i'm calling|i am calling", r"calling from")


@dataclass
class RoleDecision:
    """Which cluster is the agent, on what evidence (see ``EVIDENCE``) and how strong it is."""

    roles: dict[int, str]
    source: str
    evidence: float


@dataclass
class Diarisation:
    """One label per word and how it was decided.

    Labels are ``agent``/``customer`` when the roles are known, ``speaker1``/``speaker2`` when the
    voices separate but the roles are uncertain, ``unknown`` when the voices do not separate.
    """

    labels: list[str]
    separable: bool
    silhouette: float
    method: str
    roles_known: bool = False
    confidence: float = 0.0  # of the agent/customer roles, 0..1
    role_source: str = "none"


def pieces_from_words(words: Sequence[Word]) -> list[Piece]:
    """Merge words into speech stretches and cut them into pieces of at most two seconds."""
    pieces: list[Piece] = []
    for index, word in enumerate(words):
        current = pieces[-1] if pieces else None
        if current is not None and word.start - current.end < JOIN_GAP and word.end - current.start <= PIECE_SECONDS:
            current.end = max(current.end, word.end)
            current.words.append(index)
        else:
            pieces.append(Piece(word.start, max(word.end, word.start + 0.05), [index]))
    return pieces


def _mel_filterbank(n_mels: int, n_fft: int, rate: int, fmin: float, fmax: float) -> np.ndarray:
    def to_mel(hz):
        return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)

    def to_hz(mel):
        return 700.0 * (10 ** (np.asarray(mel) / 2595.0) - 1.0)

    points = to_hz(np.linspace(to_mel(fmin), to_mel(fmax), n_mels + 2))
    bins = np.floor((n_fft + 1) * points / rate).astype(int)
    bank = np.zeros((n_mels, n_fft // 2 + 1))
    for m in range(1, n_mels + 1):
        left, centre, right = bins[m - 1], bins[m], bins[m + 1]
        for k in range(left, centre):
            bank[m - 1, k] = (k - left) / max(1, centre - left)
        for k in range(centre, right):
            bank[m - 1, k] = (right - k) / max(1, right - centre)
    return bank


_FRAME = 400  # 25 ms
_HOP = 160  # 10 ms
_NFFT = 512
_BANK = _mel_filterbank(26, _NFFT, SAMPLE_RATE, 60.0, 4000.0)
_WINDOW = np.hamming(_FRAME)


def _frames(signal: np.ndarray, length: int, hop: int) -> np.ndarray:
    count = 1 + (signal.size - length) // hop
    if count <= 0:
        return np.zeros((0, length), dtype=np.float32)
    return np.lib.stride_tricks.as_strided(
        signal, shape=(count, length), strides=(signal.strides[0] * hop, signal.strides[0]), writeable=False
    )


def mfcc(signal: np.ndarray, n_mfcc: int = 13) -> tuple[np.ndarray, np.ndarray]:
    """MFCCs (frames × n_mfcc, without c0) and log frame energy of a 16 kHz signal."""
    emphasised = np.append(signal[:1], signal[1:] - 0.97 * signal[:-1]).astype(np.float32)
    frames = _frames(emphasised, _FRAME, _HOP) * _WINDOW
    if frames.shape[0] == 0:
        return np.zeros((0, n_mfcc)), np.zeros(0)
    power = np.abs(np.fft.rfft(frames, _NFFT)) ** 2
    energy = np.log(power.sum(axis=1) + 1e-10)
    mel = np.log(power @ _BANK.T + 1e-10)
    coefficients = dct(mel, type=2, axis=1, norm="ortho")[:, 1 : n_mfcc + 1]
    return coefficients, energy


def pitch(signal: np.ndarray) -> float:
    """Median fundamental frequency (Hz) of the voiced 40 ms frames; 0 when none is voiced."""
    frames = _frames(signal.astype(np.float32), 640, 320)
    if frames.shape[0] == 0:
        return 0.0
    frames = frames - frames.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(frames, 1280)
    correlation = np.fft.irfft(np.abs(spectrum) ** 2)[:, :640]
    low, high = SAMPLE_RATE // 400, SAMPLE_RATE // 60
    peak_lag = low + np.argmax(correlation[:, low:high], axis=1)
    strength = correlation[np.arange(len(peak_lag)), peak_lag] / (correlation[:, 0] + 1e-10)
    voiced = strength > 0.45
    if not voiced.any():
        return 0.0
    return float(np.median(SAMPLE_RATE / peak_lag[voiced]))


def piece_features(samples: np.ndarray, pieces: Sequence[Piece]) -> np.ndarray:
    """One row per piece: MFCC means and standard deviations of its louder frames, log pitch."""
    rows = []
    for piece in pieces:
        segment = samples[int(piece.start * SAMPLE_RATE) : int(piece.end * SAMPLE_RATE)]
        coefficients, energy = mfcc(segment)
        if coefficients.shape[0] >= 3:
            loud = energy >= np.percentile(energy, 40)
            chosen = coefficients[loud] if loud.sum() >= 3 else coefficients
            mean, spread = chosen.mean(axis=0), chosen.std(axis=0)
        else:
            mean = spread = np.full(coefficients.shape[1], np.nan)
        frequency = pitch(segment)
        rows.append(np.concatenate([mean, spread, [np.log(frequency) if frequency else np.nan]]))
    return np.asarray(rows, dtype=np.float64)


def _standardise(features: np.ndarray) -> np.ndarray:
    columns = features.copy()
    means = np.nanmean(columns, axis=0)
    holes = np.where(np.isnan(columns))
    columns[holes] = np.take(means, holes[1])
    columns = np.nan_to_num(columns)
    spread = columns.std(axis=0)
    spread[spread == 0] = 1.0
    columns = np.clip((columns - columns.mean(axis=0)) / spread, -Z_LIMIT, Z_LIMIT)
    columns[:, -1] *= 3.0  # pitch is the strongest single cue between two voices
    return columns


def _silhouette(points: np.ndarray, labels: np.ndarray, limit: int = 1500) -> float:
    if len(points) > limit:
        chosen = np.random.default_rng(0).choice(len(points), limit, replace=False)
        points, labels = points[chosen], labels[chosen]
    squared = np.sum(points**2, axis=1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * points @ points.T, 0))
    scores = []
    for index in range(len(points)):
        same = labels == labels[index]
        same[index] = False
        other = labels != labels[index]
        if not same.any() or not other.any():
            continue
        within = distances[index, same].mean()
        between = distances[index, other].mean()
        scores.append((between - within) / max(within, between, 1e-10))
    return float(np.mean(scores)) if scores else 0.0


def cluster_two(features: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
    """Two-group k-means over standardised features: labels (0/1) and the silhouette."""
    points = _standardise(features)
    best_labels, best_inertia = None, np.inf
    for seed in range(8):
        centroids, labels = kmeans2(points, 2, minit="++", seed=seed)
        if len(set(labels.tolist())) < 2:
            continue
        inertia = float(np.sum((points - centroids[labels]) ** 2))
        if inertia < best_inertia:
            best_labels, best_inertia = labels, inertia
    if best_labels is None:
        return np.zeros(len(points), dtype=int), 0.0
    best_labels = _smooth(best_labels, weights)
    if len(set(best_labels.tolist())) < 2:
        return best_labels, 0.0
    return best_labels, _silhouette(points, best_labels)


def _smooth(labels: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Flip a short piece (< 0.6 s) that disagrees with both neighbours, which agree."""
    result = labels.copy()
    for index in range(1, len(labels) - 1):
        if durations[index] < 0.6 and labels[index - 1] == labels[index + 1] != labels[index]:
            result[index] = labels[index - 1]
    return result


def _normalised(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]", " ", text.lower().replace("’", "'")).split())


def _count(text: str, patterns: Sequence[str]) -> int:
    lowered = _normalised(text)
    return sum(len(re.findall(rf"\b(?:{pattern})\b", lowered)) for pattern in patterns)


def _patterns(direction: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(agent patterns, customer patterns) for the call's direction."""
    if direction == "outbound":
        requests = tuple(p for p in REQUEST_PATTERNS if "calling" not in p)
        return GREETING_PATTERNS + OUTBOUND_AGENT_PATTERNS, requests
    return GREETING_PATTERNS, REQUEST_PATTERNS


def _phrase_score(text: str, direction: str | None) -> int:
    """Agent phrases minus customer phrases over a cluster's whole speech."""
    agent_patterns, customer_patterns = _patterns(direction)
    agent = _count(text, agent_patterns + LATER_AGENT_PATTERNS)
    customer = _count(text, customer_patterns + LATER_CUSTOMER_PATTERNS)
    return agent - customer


def _dominates(count: int, other: int) -> bool:
    """``count`` clearly outweighs ``other`` (1 vs 0, 2 vs 1, 4 vs 2…): a stray piece may disagree."""
    return count > 0 and count >= 2 * other


def _opening_decision(opening: dict[int, str], direction: str | None) -> tuple[int, str] | None:
    """(agent cluster, evidence kind) from the greeting and the request in the opening, if they decide."""
    agent_patterns, customer_patterns = _patterns(direction)
    greets = {c: _count(text, agent_patterns) for c, text in opening.items()}
    asks = {c: _count(text, customer_patterns) for c, text in opening.items()}
    a, b = sorted(opening)
    for agent, customer in ((a, b), (b, a)):
        greeting = _dominates(greets[agent], greets[customer])
        request = _dominates(asks[customer], asks[agent])
        contested = greets[customer] > 0 or asks[agent] > 0
        if greeting and request:
            return agent, "greeting-contested" if contested else "greeting"
        if not contested and ((greeting and asks[customer] == 0) or (request and greets[agent] == 0)):
            return agent, "greeting-one-sided"
    net = {c: greets[c] - asks[c] for c in (a, b)}
    if net[a] != net[b]:
        return (a if net[a] > net[b] else b), "greeting-mixed"
    return None


def decide_roles(
    opening: dict[int, str], whole: dict[int, str], first_speaker: int, direction: str | None = None
) -> RoleDecision:
    """Map two cluster ids to ``agent``/``customer``: the opening first, then phrases, then order.

    ``opening`` holds each cluster's words in the call's first ``OPENING_SECONDS``, ``whole``
    all its words. The evidence value says how far the decision can be trusted.
    """
    clusters = sorted(set(opening) | set(whole))
    if len(clusters) != 2:
        return RoleDecision({c: UNKNOWN for c in clusters}, "none", 0.0)
    a, b = clusters
    decided = _opening_decision({c: opening.get(c, "") for c in clusters}, direction)
    if decided is not None:
        agent, source = decided
    else:
        scores = {c: _phrase_score(whole.get(c, ""), direction) for c in clusters}
        if scores[a] != scores[b]:
            agent, source = (a if scores[a] > scores[b] else b), "phrases"
        else:
            first_is_agent = direction != "outbound"  # the agent answers an inbound call
            agent = first_speaker if first_is_agent else (b if first_speaker == a else a)
            source = "order"
    roles = {c: ("agent" if c == agent else "customer") for c in clusters}
    return RoleDecision(roles, source, EVIDENCE[source])


def assign_roles(texts: dict[int, str], first_speaker: int, direction: str | None = None) -> dict[int, str]:
    """Map cluster ids to ``agent``/``customer`` from their words (all taken as the opening)."""
    return decide_roles(texts, texts, first_speaker, direction).roles


def role_confidence(evidence: float, silhouette: float) -> float:
    """How sure the roles are (0..1): the evidence, halved when the voices barely separate."""
    clarity = (silhouette - MIN_SILHOUETTE) / (CLEAR_SILHOUETTE - MIN_SILHOUETTE)
    return round(evidence * (0.5 + 0.5 * min(1.0, max(0.0, clarity))), 2)


def diarise_mono(samples: np.ndarray, words: Sequence[Word], *, direction: str | None = None) -> Diarisation:
    """Label each word of a one-channel recording (see the module docstring)."""
    if not words:
        return Diarisation([], False, 0.0, "clustering")
    pieces = pieces_from_words(words)
    if len(pieces) < 4:
        return Diarisation([UNKNOWN] * len(words), False, 0.0, "clustering")
    features = piece_features(samples, pieces)
    durations = np.array([piece.end - piece.start for piece in pieces])
    labels, silhouette = cluster_two(features, durations)
    shares = [durations[labels == value].sum() / durations.sum() for value in (0, 1)]
    if silhouette < MIN_SILHOUETTE or min(shares) < MIN_SHARE:
        return Diarisation([UNKNOWN] * len(words), False, round(silhouette, 3), "clustering")
    word_cluster = [0] * len(words)
    for piece, label in zip(pieces, labels, strict=True):
        for i in piece.words:
            word_cluster[i] = int(label)
    opening: dict[int, str] = {0: "", 1: ""}
    whole: dict[int, str] = {0: "", 1: ""}
    opening_end = pieces[0].start + OPENING_SECONDS
    for piece, label in zip(pieces, labels, strict=True):
        text = " ".join(words[i].text for i in piece.words)
        whole[int(label)] += " " + text
        if piece.start < opening_end:
            opening[int(label)] += " " + text
    decision = decide_roles(opening, whole, int(labels[0]), direction)
    confidence = role_confidence(decision.evidence, silhouette)
    known = confidence >= MIN_ROLE_CONFIDENCE
    if known:
        names = decision.roles
    else:
        first = int(labels[0])
        names = {first: SPEAKER_LABELS[0], 1 - first: SPEAKER_LABELS[1]}
    return Diarisation(
        [names[c] for c in word_cluster],
        True,
        round(silhouette, 3),
        "clustering",
        roles_known=known,
        confidence=confidence,
        role_source=decision.source,
    )


def channel_roles(count: int, roles: Sequence[str] | None) -> list[str]:
    """Role of each channel of a dual-channel recording (default agent, then customer)."""
    chosen = list(roles or ("agent", "customer"))
    if len(chosen) < count:
        chosen += [UNKNOWN] * (count - len(chosen))
    return chosen[:count]
