"""Who spoke when: channel roles for dual-channel calls, clustering for mono recordings.

Mono method: the speech the recogniser found (word timings, merged where the pause is under a
quarter second) is cut into pieces of at most two seconds. Each piece is described by the mean
and spread of its 13 MFCCs (mel filters up to 4 kHz, so 8 kHz telephone audio works) and its
median pitch; the features are standardised and clustered into two groups with k-means (several
seeded starts, best inertia). If the silhouette of the two groups is below
``MIN_SILHOUETTE``, or one group holds under 10 % of the speech, the speakers are not separable
and every word is labelled ``unknown`` rather than guessed.

Role heuristic (documented for users): the group that says more agent phrases ("thank you for
calling", "how can I help", "my name is", "is there anything else"…) than the other is the
agent; when the phrases do not decide, the first speaker is the agent on an inbound or unknown
call (the agent answers) and the customer on an outbound call (the customer answers).
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
MIN_SHARE = 0.10
PIECE_SECONDS = 2.0
JOIN_GAP = 0.25

AGENT_PHRASES = (
    "thank you for calling",
    "thanks for calling",
    "how can i help",
    "how may i help",
    "how can i assist",
    "my name is",
    "speaking",
    "calling from",
    "is there anything else",
    "can i take your",
    "can i have your",
    "can you confirm",
    "for security",
    "bear with me",
    "let me have a look",
    "let me check",
    "have a lovely day",
    "have a great day",
    "you are welcome",
)
CUSTOMER_PHRASES = (
    "i want to",
    "i would like",
    "i'd like",
    "my account",
    "my bill",
    "my card",
    "my order",
    "i need",
    "can i get",
    "i am calling about",
    "i'm calling about",
    "i'm really",
    "i am really",
)


@dataclass
class Piece:
    """A stretch of speech (seconds) and the indexes of the words inside it."""

    start: float
    end: float
    words: list[int]


@dataclass
class Diarisation:
    """One label per word (``agent``, ``customer`` or ``unknown``) and how it was decided."""

    labels: list[str]
    separable: bool
    silhouette: float
    method: str


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
    columns = (columns - columns.mean(axis=0)) / spread
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


def _phrase_score(text: str) -> int:
    lowered = re.sub(r"[^a-z' ]", " ", text.lower())
    lowered = " ".join(lowered.split())
    agent = sum(lowered.count(phrase) for phrase in AGENT_PHRASES)
    customer = sum(lowered.count(phrase) for phrase in CUSTOMER_PHRASES)
    return agent - customer


def assign_roles(texts: dict[int, str], first_speaker: int, direction: str | None = None) -> dict[int, str]:
    """Map cluster ids to ``agent``/``customer`` by agent phrases, then by who spoke first."""
    clusters = sorted(texts)
    if len(clusters) != 2:
        return {cluster: UNKNOWN for cluster in clusters}
    scores = {cluster: _phrase_score(texts[cluster]) for cluster in clusters}
    a, b = clusters
    if scores[a] != scores[b]:
        agent = a if scores[a] > scores[b] else b
    else:
        first_is_agent = direction != "outbound"
        agent = first_speaker if first_is_agent else (b if first_speaker == a else a)
    return {cluster: ("agent" if cluster == agent else "customer") for cluster in clusters}


def diarise_mono(samples: np.ndarray, words: Sequence[Word], *, direction: str | None = None) -> Diarisation:
    """Label each word of a one-channel recording with a role (see the module docstring)."""
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
    texts = {0: "", 1: ""}
    word_cluster = [0] * len(words)
    for piece, label in zip(pieces, labels, strict=True):
        texts[int(label)] += " " + " ".join(words[i].text for i in piece.words)
        for i in piece.words:
            word_cluster[i] = int(label)
    roles = assign_roles(texts, int(labels[0]), direction)
    return Diarisation([roles[c] for c in word_cluster], True, round(silhouette, 3), "clustering")


def channel_roles(count: int, roles: Sequence[str] | None) -> list[str]:
    """Role of each channel of a dual-channel recording (default agent, then customer)."""
    chosen = list(roles or ("agent", "customer"))
    if len(chosen) < count:
        chosen += [UNKNOWN] * (count - len(chosen))
    return chosen[:count]
