"""The pre-training run's settings, shared by the loop (`pretrain`), its losses (`objectives`) and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from encoder.model import EncoderConfig


@dataclass
class TrainConfig:
    steps: int = 4000
    batch: int = 16
    lr: float = 5e-4
    warmup: int = 200
    weight_decay: float = 0.01
    edge_hide: float = 0.15  # fraction of edges hidden from message passing and reconstructed
    temperature: float = 0.07  # of the in-batch text-graph contrastive loss
    checkpoint_every_s: float = 300.0
    eval_every: int = 250
    eval_batches: int = 8
    seed: int = 0
    max_hours: float | None = None
    init_from: Path | None = None  # warm start from exported weights (a fresh run only)
    device: str = "cpu"
    workers: int = 0  # batch-preparing processes (a GPU run needs them; two cores do not)
    model: EncoderConfig = field(default_factory=EncoderConfig)
