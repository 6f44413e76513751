"""One reading of the speech settings for the server and ``octopushx analyze`` (issue 10 §2)."""

from __future__ import annotations

import argparse

import pytest

from octopushx.intelligence import AnalysisSettings, console
from octopushx.intelligence.config import LLMSettings, settings_from_environment


def _args(*options: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    console.add_arguments(parser)
    return parser.parse_args(["call.wav", *options])


def test_no_environment_gives_the_defaults():
    assert settings_from_environment({}) == AnalysisSettings()


def test_the_environment_sets_the_model_and_decoding():
    settings = settings_from_environment(
        {
            "OCTOPUSHX_ASR_MODEL": "/models/small.en",
            "OCTOPUSHX_ASR_BEAM_SIZE": "2",
            "OCTOPUSHX_ASR_THREADS": "4",
            "OCTOPUSHX_ASR_VAD": "off",
            "OCTOPUSHX_LLM_URL": "http://127.0.0.1:8080/v1",
            "OCTOPUSHX_LLM_MODEL": "local",
        }
    )
    assert (settings.model, settings.beam_size, settings.cpu_threads, settings.vad_filter) == (
        "/models/small.en",
        2,
        4,
        False,
    )
    assert settings.llm == LLMSettings(url="http://127.0.0.1:8080/v1", model="local")


@pytest.mark.parametrize(("name", "value"), [("OCTOPUSHX_ASR_BEAM_SIZE", "five"), ("OCTOPUSHX_ASR_BEAM_SIZE", "0")])
def test_a_bad_value_names_its_variable(name, value):
    with pytest.raises(ValueError, match=name):
        settings_from_environment({name: value})


def test_the_command_without_options_uses_the_servers_settings():
    environ = {"OCTOPUSHX_ASR_BEAM_SIZE": "3"}
    assert console.command_settings(_args(), environ) == settings_from_environment(environ)
    assert console.command_settings(_args(), {}) == AnalysisSettings()


def test_options_given_on_the_command_line_win():
    settings = console.command_settings(
        _args("--beam-size", "1", "--no-redact", "--no-vad"), {"OCTOPUSHX_ASR_BEAM_SIZE": "3"}
    )
    assert (settings.beam_size, settings.redact, settings.vad_filter) == (1, False, False)


def test_a_bad_environment_is_a_clear_error_on_the_command_line():
    with pytest.raises(console.ConsoleError, match="OCTOPUSHX_ASR_THREADS"):
        console.command_settings(_args(), {"OCTOPUSHX_ASR_THREADS": "many"})
