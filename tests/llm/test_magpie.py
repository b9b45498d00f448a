"""MAGPIE prefill templates, stop tokens and openings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kodcode.llm import magpie
from kodcode.llm.chat_templates import CHAT_TEMPLATES

ROOT = Path(__file__).resolve().parents[2]


def test_qwen_prefill_prompt_ends_inside_the_user_turn():
    p = magpie.prefill_prompt("qwen2.5", "You are a coding helper.", "Write a python function to")
    assert p == "<|im_start|>system\nYou are a coding helper.<|im_end|>\n<|im_start|>user\nWrite a python function to"
    default = magpie.prefill_prompt("qwen2.5", None, "Write a python function to")
    assert default.startswith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.")


def test_llama3_prefill_prompt_and_stops():
    p = magpie.prefill_prompt("llama-3", None, "Create a function that")
    assert p == "<|start_header_id|>user<|end_header_id|>\n\nCreate a function that"
    with_sys = magpie.prefill_prompt("llama-3.1", "Be brief.", "x")
    assert with_sys.startswith("<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>")
    assert "<|begin_of_text|>" not in p  # the tokenizer adds BOS once
    assert magpie.stop_strings("llama-3")[:2] == ["<|eot_id|>", "<|end_of_text|>"]
    assert 128009 in magpie.stop_token_ids("llama-3")


def test_early_stop_and_role_leak_options():
    assert "\n" in magpie.stop_strings("qwen2.5")
    assert "\n" not in magpie.stop_strings("qwen2.5", early_stop=False)
    assert "assistant" not in magpie.stop_strings("qwen2.5", role_leak=False)
    assert magpie.stop_token_ids("qwen2.5") == [151643, 151644, 151645]


def test_three_openings_and_question_join():
    assert len(magpie.PREFILL_OPENINGS) == 3 and magpie.PREFILL_OPENINGS[0] == "Write a python function to"
    assert magpie.question_from_completion("Write a python function to", " reverse a list.\n") == \
        "Write a python function to reverse a list."
    assert magpie.question_from_completion("Create a function that", "") == ""


def test_families_are_the_schema_choices_and_share_the_chat_templates():
    schema = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text(encoding="utf-8"))
    assert tuple(schema["properties"]["prefill"]["properties"]["family"]["enum"]) == magpie.FAMILIES
    # one table of chat markup: MAGPIE's prompt is the tagger's template cut inside the user turn
    qwen = CHAT_TEMPLATES["qwen2.5"]
    assert magpie.prefill_prompt("qwen2.5", None, "Go") == qwen.system_turn() + qwen.user_start + "Go"
    # Llama 3.1 is prefilled as upstream MAGPIE does it: the Llama 3 markup, no dated system turn
    assert magpie.template("llama3.1") is CHAT_TEMPLATES["llama-3"]
    with pytest.raises(KeyError, match="unknown MAGPIE template family 'nope'; known: qwen2.5, llama-3"):
        magpie.prefill_prompt("nope", None, "x")
