"""The chat templates MAGPIE prefill and the Filter tagger share."""

from __future__ import annotations

import pytest

from kodcode.llm.chat_templates import CHAT_TEMPLATES, guess_template


def test_system_turn_default_given_and_none():
    qwen, llama3, llama31 = CHAT_TEMPLATES["qwen2.5"], CHAT_TEMPLATES["llama-3"], CHAT_TEMPLATES["llama-3.1"]
    assert qwen.system_turn() == qwen.system_turn("") == \
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
    assert qwen.system_turn("Be brief.") == "<|im_start|>system\nBe brief.<|im_end|>\n"
    assert llama3.system_turn() == ""  # Llama 3 writes no system turn unless given one
    # Llama 3.1 always writes its dated system turn, and a given system text follows the date
    assert llama31.system_turn().endswith("Today Date: 26 Jul 2024\n\n<|eot_id|>")
    assert llama31.system_turn("Be brief.").endswith("Today Date: 26 Jul 2024\n\nBe brief.<|eot_id|>")


def test_prefilled_answer_strips_the_user_text():
    qwen = CHAT_TEMPLATES["qwen2.5"]
    assert qwen.prefilled_answer("  Rate this.\n", "{") == \
        qwen.system_turn() + "<|im_start|>user\nRate this.<|im_end|>\n<|im_start|>assistant\n{"


def test_no_template_writes_bos():
    for t in CHAT_TEMPLATES.values():
        assert "<|begin_of_text|>" not in t.prefilled_answer("x", "{") + t.open_user_turn("s")


@pytest.mark.parametrize("model, name", [
    ("meta-llama/Meta-Llama-3.1-8B-Instruct", "llama-3.1"),
    ("meta-llama/Llama-3.3-70B-Instruct", "llama-3.1"),
    ("llama3.2:3b", "llama-3.1"),
    ("meta-llama/Meta-Llama-3-8B-Instruct", "llama-3"),
    ("Qwen/Qwen2.5-Coder-7B-Instruct", "qwen2.5"),
    ("mistralai/Mistral-7B-Instruct-v0.3", None),
])
def test_guess_from_model_id(model, name):
    assert guess_template(model) == name
