"""MAGPIE prefill templates, stop tokens and openings."""

from __future__ import annotations

import pytest

from kodcode.llm import magpie


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


def test_family_guess_and_config_overrides():
    assert magpie.family_for_model("Qwen/Qwen2.5-Coder-7B-Instruct") == "qwen2.5"
    assert magpie.family_for_model("meta-llama/Llama-3.1-8B-Instruct") == "llama-3"
    with pytest.raises(KeyError):
        magpie.family_for_model("mistralai/Mistral-7B")
    t = magpie.templates_from_config({"templates": {
        "qwen2.5": {"default_system": "Custom.", "stop_token_ids": [1, 2]},
        "phi-3": {"system_block": "<|system|>\n{system}<|end|>\n", "user_start": "<|user|>\n", "stop": ["<|end|>"]},
    }})
    assert magpie.prefill_prompt("qwen2.5", None, "Go", templates=t).startswith("<|im_start|>system\nCustom.<|im_end|>")
    assert magpie.stop_token_ids("qwen2.5", templates=t) == [1, 2]
    assert magpie.prefill_prompt("phi-3", "S", "Write", templates=t) == "<|system|>\nS<|end|>\n<|user|>\nWrite"
    with pytest.raises(ValueError):
        magpie.templates_from_config({"templates": {"new": {"stop": ["x"]}}})
    with pytest.raises(KeyError):
        magpie.prefill_prompt("nope", None, "x")
