"""Cut speech-recogniser repetition loops ("5, 5, 5, 5, …", "thank you thank you …") from a
transcript before it is analysed.

Whisper sometimes falls into a loop and writes the same word or phrase dozens of times. A
phrase repeated :data:`MIN_REPEATS` times in a row is a loop: one copy is kept, stretched over
the time the loop took (so the speaker's talk time, and any redaction that covers it, still
covers that audio). Digits are treated differently: a card number may really repeat a digit
("4111 1111 1111 1111"), so only a digit loop longer than any card is cut, and it keeps
:data:`KEEP_DIGITS` digits, enough to be redacted as a card number whatever came before it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from octopushx.intelligence.results import Word

MAX_PHRASE = 6  # longest repeated phrase looked for, in words
MIN_REPEATS = {1: 5}  # a single word five times in a row; longer phrases (default) four times
DEFAULT_MIN_REPEATS = 4
LONGEST_NUMBER = 19  # digits: a digit loop is cut only beyond the longest card number
KEEP_DIGITS = 16
_NUMBER_WORDS = frozenset(
    "zero oh nought one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety".split()
)


def _key(text: str) -> str:
    return text.lower().strip(" ,.;:!?\"'()[]{}-…")


def _digits(keys: Sequence[str]) -> int | None:
    """How many digits a phrase says, or None when it is not all digits."""
    count = 0
    for key in keys:
        if re.fullmatch(r"\d+", key):
            count += len(key)
        elif key in _NUMBER_WORDS:
            count += 1
        else:
            return None
    return count


def _loop_at(keys: Sequence[str], start: int) -> tuple[int, int]:
    """The (phrase length, repeats) of the longest-covering loop starting at ``start``, or (0, 0)."""
    best = (0, 0)
    for size in range(1, MAX_PHRASE + 1):
        phrase = keys[start : start + size]
        if len(phrase) < size or not all(phrase):
            break
        repeats = 1
        while keys[start + repeats * size : start + (repeats + 1) * size] == phrase:
            repeats += 1
        if repeats >= MIN_REPEATS.get(size, DEFAULT_MIN_REPEATS) and size * repeats > best[0] * best[1]:
            best = (size, repeats)
    return best


def _keep(keys: Sequence[str], size: int, repeats: int) -> int | None:
    """How many copies of a loop to keep, or None when it is not cut."""
    digits = _digits(keys)
    if digits is None:
        return 1
    if digits * repeats <= LONGEST_NUMBER:
        return None
    return max(1, -(-KEEP_DIGITS // max(1, digits)))


def cut_words(words: Sequence[Word]) -> list[Word]:
    """``words`` with repetition loops cut; the last copy kept ends when the loop ended."""
    return [word for _index, word in cut(words)]


def cut(words: Sequence[Word]) -> list[tuple[int, Word]]:
    """The words kept, each with its index in ``words`` (a stretched copy: its original's)."""
    keys = [_key(w.text) for w in words]
    result: list[tuple[int, Word]] = []
    index = 0
    while index < len(words):
        size, repeats = _loop_at(keys, index)
        keep = _keep(keys[index : index + size], size, repeats) if size else None
        if keep is None:
            result.append((index, words[index]))
            index += 1
            continue
        last = index + size * keep - 1
        loop_end = max(w.end for w in words[index : index + size * repeats])
        result.extend((i, words[i]) for i in range(index, last))
        result.append((last, replace(words[last], end=loop_end)))
        index += size * repeats
    return result


def cut_text(text: str) -> str:
    """The same cut for a text without word timings."""
    pieces = text.split()
    words = [Word(piece, float(i), float(i + 1)) for i, piece in enumerate(pieces)]
    kept = cut_words(words)
    return text if len(kept) == len(words) else " ".join(w.text for w in kept)
