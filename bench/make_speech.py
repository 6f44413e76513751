"""Synthesise two-speaker test calls with espeak-ng and sox, with the ground truth beside them.

Each turn of a known script is spoken by the agent's or the customer's voice, then laid out on a
timeline with short gaps: ``NAME-stereo.wav`` has the agent on the left channel and the customer
on the right (a dual-channel recording); ``NAME-mono.wav`` is the mix. Other formats are encoded
from those (FLAC and OGG/Vorbis with sox; MP3, M4A/AAC and OGG/Opus with PyAV). ``NAME.json``
holds the script, each turn's speech span in seconds, and the sensitive items spoken.

    python bench/make_speech.py OUT_DIR [--script short|long] [--rate 16000] [--formats wav,mp3,…]

Needs ``espeak-ng`` and ``sox`` (Debian packages of the same names).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

VOICES = {
    # role: (espeak voice, pitch 0-99, words per minute)
    "agent": ("en-gb-x-rp+f2", 70, 145),
    "customer": ("en-us", 40, 145),
}

CARD = "4916382750614726"  # a Luhn-valid test Visa number
SECOND_CARD = "5425238430109605"  # a Luhn-valid test Mastercard number

SHORT_SCRIPT: list[dict] = [
    {"speaker": "agent", "text": "Thank you for calling Octopus Energy, my name is Sarah. How can I help you today?"},
    {"speaker": "customer", "text": "Hello, I would like to pay my bill with a card please."},
    {"speaker": "agent", "text": "Of course. Can you read me the long number on the card?"},
    {
        "speaker": "customer",
        "text": "Yes, it is four nine one six, three eight two seven, five zero six one, four seven two six.",
        "sensitive": [{"kind": "CARD", "value": CARD}],
    },
    {"speaker": "agent", "text": "Thank you. What is your email address?"},
    {
        "speaker": "customer",
        "text": "My email is john smith at example dot com.",
        "sensitive": [{"kind": "EMAIL", "value": "johnsmith@example.com"}],
    },
    {"speaker": "agent", "text": "Great, I will send you an invoice by Friday."},
    {
        "speaker": "customer",
        "text": "Perfect. My phone number is zero seven seven zero zero, nine zero zero, one two three.",
        "sensitive": [{"kind": "PHONE", "value": "07700900123"}],
    },
    {"speaker": "agent", "text": "Is there anything else I can help you with today?"},
    {"speaker": "customer", "text": "No, that is everything. Thank you very much, goodbye."},
]

LONG_SCRIPT: list[dict] = [
    {
        "speaker": "agent",
        "text": "Good morning, thank you for calling Northwind Broadband, this is Daniel speaking. How can I help?",
    },
    {
        "speaker": "customer",
        "text": "Hi Daniel. My internet has been dropping out every evening for a week and I am really frustrated.",
    },
    {
        "speaker": "agent",
        "text": "I am sorry to hear that. Let me have a look at your line. Can I take your account number please?",
    },
    {
        "speaker": "customer",
        "text": "Sure, my account number is three one nine two six four eight seven.",
        "sensitive": [{"kind": "ACCOUNT", "value": "31926487"}],
    },
    {
        "speaker": "agent",
        "text": "Thank you. I can see a fault on the exchange near you. Our engineers are working on it.",
    },
    {
        "speaker": "customer",
        "text": "That is not good enough. I work from home and I need a stable connection. Can I get a refund for this month?",
    },
    {
        "speaker": "agent",
        "text": "I understand. I can offer you a credit of twenty pounds on your next bill. Would that help?",
    },
    {
        "speaker": "customer",
        "text": "Yes, that would help, thank you. I also want to pay the outstanding balance today.",
    },
    {"speaker": "agent", "text": "No problem. Please read me the card number when you are ready."},
    {
        "speaker": "customer",
        "text": "The card number is five four two five, two three eight four, three zero one zero, nine six zero five.",
        "sensitive": [{"kind": "CARD", "value": SECOND_CARD}],
    },
    {"speaker": "agent", "text": "And the expiry date and the security code on the back?"},
    {
        "speaker": "customer",
        "text": "It expires oh eight twenty eight and the security code is four one seven.",
        "sensitive": [{"kind": "EXPIRY", "value": "0828"}, {"kind": "CVV", "value": "417"}],
    },
    {
        "speaker": "agent",
        "text": "Thank you, the payment has gone through. Do you want the refund paid into your bank account?",
    },
    {
        "speaker": "customer",
        "text": "Yes please. The sort code is two zero, four five, seven seven and the account number is five five one two three nine eight four.",
        "sensitive": [{"kind": "SORT_CODE", "value": "204577"}, {"kind": "ACCOUNT", "value": "55123984"}],
    },
    {"speaker": "agent", "text": "Lovely. For security, can you confirm your national insurance number?"},
    {
        "speaker": "customer",
        "text": "It is Q Q one two three four five six C.",
        "sensitive": [{"kind": "NI", "value": "QQ123456C"}],
    },
    {"speaker": "agent", "text": "Thank you. What is the best email address to send the confirmation to?"},
    {
        "speaker": "customer",
        "text": "Please use mary dot jones at northmail dot co dot uk.",
        "sensitive": [{"kind": "EMAIL", "value": "mary.jones@northmail.co.uk"}],
    },
    {
        "speaker": "agent",
        "text": "I will email you the confirmation by tomorrow and an engineer will call you by the end of the week.",
    },
    {
        "speaker": "customer",
        "text": "Great. Can the engineer call me on zero seven nine four six, one two three, four five six?",
        "sensitive": [{"kind": "PHONE", "value": "07946123456"}],
    },
    {
        "speaker": "agent",
        "text": "Yes, I have added that number to the ticket. Is there anything else I can help you with?",
    },
    {"speaker": "customer", "text": "No, that is all. Thanks for your help Daniel, goodbye."},
    {"speaker": "agent", "text": "You are welcome. Have a lovely day, goodbye."},
]

SCRIPTS = {"short": SHORT_SCRIPT, "long": LONG_SCRIPT}
SYNTH_RATE = 22050  # espeak-ng's own output rate


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SystemExit(f"{tool} is not installed (apt-get install espeak-ng sox)")
    return path


def speak(text: str, speaker: str, workdir: Path, voices: dict | None = None) -> np.ndarray:
    """One turn as float32 at 22.05 kHz, leading and trailing silence trimmed."""
    voice, pitch, speed = (voices or VOICES)[speaker]
    target = workdir / "turn.wav"
    subprocess.run(
        [_require("espeak-ng"), "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(target), text],
        check=True,
        capture_output=True,
    )
    with wave.open(str(target)) as handle:
        assert handle.getframerate() == SYNTH_RATE, handle.getframerate()
        raw = handle.readframes(handle.getnframes())
    signal = np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768.0
    loud = np.flatnonzero(np.abs(signal) > 0.01)
    if loud.size:
        signal = signal[max(0, loud[0] - 200) : loud[-1] + 200]
    return signal


def _write_wav(path: Path, channels: np.ndarray, rate: int) -> None:
    pcm = (np.clip(channels.T, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels.shape[0])
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())


def _sox(source: Path, target: Path, *options: str) -> None:
    # -R -D: no dither and fixed random seeds. sox dithers with fresh random noise on each run
    # by default, so the same script gave slightly different audio, transcripts and talk ratios.
    command = [_require("sox"), "-R", "-D", str(source), *options, str(target)]
    subprocess.run(command, check=True, capture_output=True)


def _encode_with_pyav(source: Path, target: Path, codec: str, container_format: str, rate: int | None) -> None:
    import av

    with av.open(str(source)) as reader, av.open(str(target), "w", format=container_format) as writer:
        stream_in = reader.streams.audio[0]
        layout = "stereo" if stream_in.codec_context.channels == 2 else "mono"
        rate = rate or stream_in.codec_context.sample_rate
        stream_out = writer.add_stream(codec, rate=rate, layout=layout)
        resampler = av.AudioResampler(
            format=stream_out.codec_context.format.name,
            layout=layout,
            rate=rate,
            frame_size=stream_out.codec_context.frame_size or None,
        )
        for frame in reader.decode(stream_in):
            frame.pts = None
            for piece in resampler.resample(frame):
                writer.mux(stream_out.encode(piece))
        for piece in resampler.resample(None):
            writer.mux(stream_out.encode(piece))
        writer.mux(stream_out.encode(None))


FORMATS = ("wav", "flac", "ogg", "mp3", "m4a", "opus")


def synthesise(
    out_dir: str | Path,
    *,
    script: list[dict] | str = "short",
    name: str = "call",
    rate: int = 16000,
    formats: tuple[str, ...] = ("wav",),
    seed: int = 7,
    lead_in: float = 0.5,
    repeat: int = 1,
    voices: dict[str, tuple[str, int, int]] | None = None,
) -> dict:
    """Write NAME-stereo.* and NAME-mono.* into ``out_dir`` and return the manifest (also NAME.json).

    ``repeat`` plays the script that many times in a row (for long recordings); ``voices`` maps
    each role to its (espeak voice, pitch, words per minute), by default ``VOICES``.
    """
    voices = voices or VOICES
    turns = SCRIPTS[script] if isinstance(script, str) else script
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        clips = {index: speak(turn["text"], turn["speaker"], workdir, voices) for index, turn in enumerate(turns)}
        layout: list[dict] = []
        cursor = lead_in
        for _ in range(repeat):
            for index, turn in enumerate(turns):
                length = clips[index].size / SYNTH_RATE
                layout.append({**turn, "index": index, "start": round(cursor, 3), "end": round(cursor + length, 3)})
                cursor += length + rng.uniform(0.35, 0.8)
        total = int((cursor + 0.5) * SYNTH_RATE)
        stereo = np.zeros((2, total), dtype=np.float32)
        for turn in layout:
            row = 0 if turn["speaker"] == "agent" else 1
            begin = int(turn["start"] * SYNTH_RATE)
            clip = clips[turn["index"]]
            stereo[row, begin : begin + clip.size] += clip
        mono = (stereo[0] + stereo[1])[None, :]
        files: dict[str, dict[str, str]] = {"stereo": {}, "mono": {}}
        for kind, signal in (("stereo", stereo), ("mono", mono)):
            raw = workdir / f"{kind}-raw.wav"
            _write_wav(raw, signal, SYNTH_RATE)
            wav = out / f"{name}-{kind}.wav"
            _sox(raw, wav, "-r", str(rate), "-b", "16")
            files[kind]["wav"] = str(wav)
            for fmt in formats:
                target = out / f"{name}-{kind}.{fmt}"
                if fmt == "wav":
                    continue
                if fmt == "flac":
                    _sox(wav, target)
                elif fmt == "ogg":
                    _sox(wav, target, "-C", "3")
                elif fmt == "mp3":
                    _encode_with_pyav(wav, target, "libmp3lame", "mp3", None)
                elif fmt == "m4a":
                    _encode_with_pyav(wav, target, "aac", "ipod", None)
                elif fmt == "opus":
                    target = out / f"{name}-{kind}.opus.ogg"
                    _encode_with_pyav(wav, target, "libopus", "ogg", 48000)
                else:
                    raise ValueError(f"unknown format {fmt}")
                files[kind][fmt] = str(target)
    speech = {"agent": 0.0, "customer": 0.0}
    for turn in layout:
        speech[turn["speaker"]] += turn["end"] - turn["start"]
    manifest = {
        "name": name,
        "rate": rate,
        "duration": round(total / SYNTH_RATE, 3),
        "voices": {role: list(voice) for role, voice in voices.items()},
        "turns": layout,
        "talk_ratio": {role: round(seconds / sum(speech.values()), 4) for role, seconds in speech.items()},
        "files": files,
    }
    (out / f"{name}.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--script", choices=sorted(SCRIPTS), default="short")
    parser.add_argument("--name", default=None)
    parser.add_argument("--rate", type=int, default=16000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    manifest = synthesise(
        args.out_dir,
        script=args.script,
        name=args.name or args.script,
        rate=args.rate,
        formats=tuple(f for f in args.formats.split(",") if f),
        repeat=args.repeat,
    )
    print(f"{manifest['duration']:.1f} s, talk ratio {manifest['talk_ratio']}")
    for kind, paths in manifest["files"].items():
        for fmt, path in paths.items():
            print(f"  {kind:<6} {fmt:<5} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
