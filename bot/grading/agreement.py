"""A cross-encoder that reads a rubric point and an answer span together and says whether
the span agrees with the point, states an error against it, or is about something else.

Frozen MiniLM embeds a claim and its opposite almost alike (a sentence vector barely moves
when "rare" becomes "common"), so similarity alone credits fluent errors. Reading both
texts in one pass lets attention compare them word against word. The model is the bundled
all-MiniLM-L6-v2 plus low-rank adapters and a three-way head, trained by
`evals/train_agreement.py` on authored statement pairs (`evals/datasets/contradiction_pairs`)
and then on whole practice answers whose covering and contradicting sentences are quoted
(`evals/datasets/answer_spans`), none written for the grading dataset's questions. Only the
adapters ship (under 1 MB, `calibration/agreement.v3.safetensors`; `agreement.v1`, trained
on the pairs alone, is kept as the starting point of that training); they are merged into a
private copy of the base weights on first use, so nothing is downloaded and the embedder is
left untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

ADAPTER = Path(__file__).resolve().parent / "calibration" / "agreement.v3.safetensors"
LABELS = ("agree", "contradict", "unrelated")
AGREE, CONTRADICT, UNRELATED = range(3)
MAX_TOKENS = 192
"""Point and span together; a rubric point is under 70 tokens and a span under 100."""
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
"""The linear layers of each transformer block that carry adapters."""


class AgreementModelMissing(RuntimeError):
    pass


def load_base() -> tuple[Any, Any]:
    """A fresh copy of the bundled MiniLM encoder and its tokenizer (from site-packages)."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from knowledge.embeddings import bundled_model_dir

    hf_logging.disable_progress_bar()

    path = str(bundled_model_dir())
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path)


def adapted_layers(encoder: Any) -> dict[str, Any]:
    """The encoder's linear layers that carry adapters, by module name."""
    found = {}
    for name, module in encoder.named_modules():
        parts = name.split(".", 3)
        if len(parts) == 4 and parts[:2] == ["encoder", "layer"] and parts[3] in TARGETS:
            found[name] = module
    return found


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def encode_pairs(tokenizer: Any, pairs: Sequence[tuple[str, str]]) -> Any:
    points = [p for p, _ in pairs]
    spans = [s for _, s in pairs]
    return tokenizer(
        points,
        spans,
        padding=True,
        truncation="longest_first",
        max_length=MAX_TOKENS,
        return_tensors="pt",
    )


@dataclass
class _Loaded:
    tokenizer: Any
    encoder: Any
    head: Any
    version: str


class AgreementModel:
    """P(agree), P(contradict), P(unrelated) for (rubric point, answer span) pairs."""

    def __init__(self, adapter: Path = ADAPTER) -> None:
        self.adapter = adapter
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    def _load(self) -> _Loaded:
        with self._lock:
            if self._loaded is None:
                self._loaded = _merge(self.adapter)
            return self._loaded

    @property
    def version(self) -> str:
        return self._load().version

    def probabilities(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32) -> np.ndarray:
        """One row of three probabilities (LABELS order) per (point, span) pair."""
        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        import torch

        loaded = self._load()
        rows = []
        with torch.inference_mode():
            for start in range(0, len(pairs), batch_size):
                batch = encode_pairs(loaded.tokenizer, pairs[start : start + batch_size])
                hidden = loaded.encoder(**batch).last_hidden_state
                logits = loaded.head(mean_pool(hidden, batch["attention_mask"]))
                rows.append(torch.softmax(logits, dim=-1).numpy())
        return np.concatenate(rows).astype(np.float32)


def _merge(adapter: Path) -> _Loaded:
    """Base weights plus the shipped low-rank deltas, merged once: inference costs nothing extra."""
    if not adapter.is_file():
        raise AgreementModelMissing(f"{adapter} is missing; reinstall Panelist")
    import torch
    from safetensors import safe_open

    tokenizer, encoder = load_base()
    with safe_open(str(adapter), framework="pt") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is no dict)
    scale = float(meta["alpha"]) / float(meta["rank"])
    layers = adapted_layers(encoder)
    with torch.no_grad():
        for name, layer in layers.items():
            a, b = tensors[f"{name}.lora_a"].float(), tensors[f"{name}.lora_b"].float()
            layer.weight += scale * (b @ a)
    head = torch.nn.Linear(encoder.config.hidden_size, len(LABELS))
    head.load_state_dict(
        {"weight": tensors["head.weight"].float(), "bias": tensors["head.bias"].float()}
    )
    encoder.eval()
    head.eval()
    return _Loaded(tokenizer, encoder, head, meta.get("version", adapter.stem))


_shared: AgreementModel | None = None
_shared_lock = threading.Lock()


def shared_model() -> AgreementModel:
    """One model per process: the merged weights are read-only and safe to share."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = AgreementModel()
        return _shared
