"""Self-supervised pre-training: the training loop (the tasks and their losses are in `objectives`).

The loop runs for hours on two cores, so it is built to be stopped: a checkpoint (model,
optimiser, step, random states) is written atomically every few minutes and a
re-run resumes from it; losses go to a JSON-lines log per step.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch

from encoder.atomic import atomic_write
from encoder.model import MIREncoder, count_parameters
from encoder.training import dataset as ds
from encoder.training.config import TrainConfig
from encoder.training.objectives import TASKS, Batches, batch_losses, step_losses


def _lr(step: int, cfg: TrainConfig, hours: float = 0.0) -> float:
    """Linear warm-up, then cosine decay over the steps or the time budget, whichever ends first.

    Why time-aware: on a shared two-core machine the step rate is not known in
    advance; a run stopped by its time budget should still end at a low rate.
    """
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    p = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    if cfg.max_hours:
        p = max(p, hours / cfg.max_hours)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, p)))


@torch.no_grad()
def evaluate(model: MIREncoder, modules: list[ds.Module], cfg: TrainConfig, batches: int) -> dict[str, float]:
    """Held-out losses and accuracies on fixed validation batches (seeded, so comparable over time)."""
    model.eval()
    b = ds.Batcher(modules, seed=12345)
    rng, gen = random.Random(12345), torch.Generator().manual_seed(12345)
    acc: dict[str, list[float]] = {}
    for _ in range(batches):
        idx = b.draw(min(cfg.batch, len(modules)), rng)
        out = step_losses(model, modules, idx, b.sibling(idx), cfg, rng, gen)
        for k, v in out.items():
            acc.setdefault(k, []).append(float(v))
    model.train()
    return {k: float(np.mean(v)) for k, v in acc.items()}


def _save(path: Path, state: dict) -> None:
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def _state(model, opt, step, t_start, cfg: TrainConfig) -> dict:
    return {
        "model": {k: v.cpu() for k, v in model.state_dict().items()},
        "optim": opt.state_dict(),
        "step": step,
        "elapsed": time.time() - t_start,
        "config": cfg.model.to_dict(),
        "device": _device_name(cfg.device),
    }


def _device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return "cpu"


def train(
    modules: list[ds.Module], out_dir: Path, cfg: TrainConfig, log=print, on_checkpoint=None
) -> tuple[MIREncoder, dict[str, float]]:
    """Train (or resume) and return the model (on the CPU) and the last held-out metrics.

    `on_checkpoint(model, step)` runs after each checkpoint (a GPU run exports
    its weights there, so a lease that ends early still leaves them).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    train_m = [m for m in modules if m.split == "train"]
    val_m = [m for m in modules if m.split != "train"] or train_m[: max(2, len(train_m) // 20)]
    model = MIREncoder(cfg.model)
    ckpt = out_dir / "checkpoint.pt"
    step, elapsed = 0, 0.0
    st = torch.load(ckpt, weights_only=False, map_location="cpu") if ckpt.exists() else None
    if st is not None:
        model.load_state_dict(st["model"])
        step, elapsed = st["step"], st["elapsed"]
        log(f"resumed at step {step} ({elapsed / 3600:.2f} h trained)")
    elif cfg.init_from is not None:
        from encoder.embedding import load_model

        init = load_model(cfg.init_from)
        if init.cfg != cfg.model:
            raise ValueError(f"{cfg.init_from}: model shape {init.cfg} differs from this run's {cfg.model}")
        model.load_state_dict(init.state_dict())
        log(f"warm start from {cfg.init_from}")
    model.to(cfg.device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if st is not None and "optim" in st:
        opt.load_state_dict(st["optim"])
    log(
        f"{count_parameters(model):,} parameters; {len(train_m)} train / {len(val_m)} validation modules; "
        f"device {_device_name(cfg.device)}"
    )
    metrics: dict[str, float] = {}
    t_last_ckpt = time.time()
    t_start = time.time() - elapsed
    loader = torch.utils.data.DataLoader(
        Batches(train_m, cfg, step, cfg.steps),
        batch_size=None,
        num_workers=cfg.workers,
        pin_memory=cfg.device.startswith("cuda"),
        prefetch_factor=4 if cfg.workers else None,
        persistent_workers=False,
    )

    def checkpoint() -> None:
        _save(ckpt, _state(model, opt, step, t_start, cfg))
        if on_checkpoint is not None:
            on_checkpoint(model, step)

    with open(out_dir / "log.jsonl", "a") as logf:
        for b in loader:
            if step >= cfg.steps:
                break
            if cfg.max_hours is not None and (time.time() - t_start) / 3600 >= cfg.max_hours:
                log(f"time budget of {cfg.max_hours} h reached at step {step}")
                break
            lr = _lr(step, cfg, (time.time() - t_start) / 3600)
            for g in opt.param_groups:
                g["lr"] = lr
            out = batch_losses(model, b, cfg)
            loss = sum(out[t] for t in TASKS)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            rec = {"step": step, "time_s": round(time.time() - t_start, 1), "lr": lr}
            rec.update({k: round(float(v.detach()), 4) for k, v in out.items()})
            if step % cfg.eval_every == 0 or step == cfg.steps:
                metrics = evaluate(model, val_m, cfg, cfg.eval_batches)
                rec.update({f"val_{k}": round(v, 4) for k, v in metrics.items()})
                log(json.dumps(rec))
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
            if time.time() - t_last_ckpt >= cfg.checkpoint_every_s:
                checkpoint()
                t_last_ckpt = time.time()
        if not metrics or step % cfg.eval_every:
            metrics = evaluate(model, val_m, cfg, cfg.eval_batches)
        checkpoint()
    return model.cpu(), metrics
