"""What `encoder pretrain` and `encoder export` do end to end: tokenizer, tensors, training, export.

Each stage keeps what a killed run left (the tokenizer, the tensor shards, the
checkpoint), so re-running the same command resumes. Exporting installs the
weights, the tokenizer and the model card only after the held-out checks ran.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import torch

from encoder.model import MIREncoder
from encoder.training import dataset as ds
from encoder.training.pretrain import TrainConfig, train


def train_tokenizer(corpus: Path, out: Path, vocab: int, seed: int, sample: int = 6000) -> Path:
    """Train the WordPiece vocabulary on (a sample of) the training split; kept if present."""
    from encoder import tokenizer as tk

    path = out / "tokenizer.json"
    if path.exists():
        return path
    rows = [r for r in ds.read_index(corpus) if r["split"] == "train"]
    random.Random(seed).shuffle(rows)
    texts = ((corpus / "modules" / f"{r['hash']}.ll").read_text() for r in rows[:sample])
    tk.save(tk.train(texts, vocab_size=vocab), path)
    return path


def _train_record(cfg: TrainConfig, state: dict, metrics: dict, n_modules: int, command: str) -> dict:
    """What the model card reports about a run, stored beside the exported weights."""
    return {
        "steps": state["step"],
        "train_hours": round(state["elapsed"] / 3600, 3),
        "final_val": metrics,
        "modules": n_modules,
        "command": command,
        "batch": cfg.batch,
        "lr": cfg.lr,
        "seed": cfg.seed,
        "device": state.get("device", "cpu"),
    }


def export(model: MIREncoder, record: dict, modules: list[ds.Module], corpus: Path, run_dir: Path, log=print) -> dict:
    """Held-out retrieval and intact-module matching checks, then install weights, tokenizer and model card."""
    import shutil

    from encoder.embedding import TOKENIZER, WEIGHTS, save_weights
    from encoder.training import card, evaluate

    val = [m for m in modules if m.split != "train"]
    seed = record.get("seed", 0)
    result = {**record, **evaluate.retrieval_check(model, val, seed), **evaluate.matching_check(model, val, seed)}
    save_weights(model, WEIGHTS, extra=result)
    if (run_dir / "tokenizer.json").exists() and (run_dir / "tokenizer.json").resolve() != TOKENIZER.resolve():
        shutil.copyfile(run_dir / "tokenizer.json", TOKENIZER)
    card.write(corpus, run_dir, result, model.cfg)
    log(f"exported {WEIGHTS} ({WEIGHTS.stat().st_size / 2**20:.1f} MiB), {TOKENIZER} and the model card")
    (run_dir / "result.json").write_text(json.dumps(result, indent=1))
    return result


def run_pack(pack_file: Path, out: Path, cfg: TrainConfig, command: str = "", log=print) -> dict:
    """Train from a tensor pack (`encoder pack`), on any device; writes `out/weights.pt`.

    For a machine that has no corpus (a GPU lent for minutes): the weights are
    re-exported at every checkpoint, so whatever the lease allows is kept. The
    retrieval check and the model card are left to `encoder export`, which
    needs the corpus.
    """
    from encoder.embedding import save_weights
    from encoder.training.pack import unpack

    t0 = time.time()
    modules, meta = unpack(pack_file)
    cfg.model.vocab_size = int(meta["vocab_size"])
    log(f"{len(modules)} modules from {pack_file} ({time.time() - t0:.0f} s)")

    def snapshot(model: MIREncoder, step: int) -> None:
        state = torch.load(out / "checkpoint.pt", weights_only=False, map_location="cpu")
        save_weights(model, out / "weights.pt", extra=_train_record(cfg, state, {}, len(modules), command))

    model, metrics = train(modules, out, cfg, log, on_checkpoint=snapshot)
    state = torch.load(out / "checkpoint.pt", weights_only=False, map_location="cpu")
    record = _train_record(cfg, state, metrics, len(modules), command)
    save_weights(model, out / "weights.pt", extra=record)
    (out / "result.json").write_text(json.dumps(record, indent=1))
    return record


def run(
    corpus: Path,
    out: Path,
    cfg: TrainConfig,
    vocab: int,
    jobs: int = 2,
    export_weights: bool = True,
    command: str = "",
    log=print,
) -> dict:
    """Everything `encoder pretrain` does; each stage resumes where a killed run stopped."""
    import shutil

    from encoder import tokenizer as tk

    if not (corpus / "index.csv").exists():
        raise FileNotFoundError(f"{corpus}/index.csv: no corpus here; build one with `encoder corpus --out {corpus}`")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    if cfg.init_from is not None and not (out / "tokenizer.json").exists():
        # warm-started weights only mean something with the tokenizer they were trained with
        shutil.copyfile(cfg.init_from.parent / "tokenizer.json", out / "tokenizer.json")
    tok_path = train_tokenizer(corpus, out, vocab, cfg.seed)
    cfg.model.vocab_size = tk.load(tok_path).get_vocab_size()
    log(f"tokenizer: {cfg.model.vocab_size} pieces ({time.time() - t0:.0f} s)")
    kept, failed = ds.preprocess(corpus, tok_path, out / "tensors", jobs)
    modules = ds.load_modules(out / "tensors")
    log(f"tensors: {len(modules)} modules ({failed} unreadable this pass)")
    model, metrics = train(modules, out, cfg, log)
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    record = _train_record(cfg, state, metrics, len(modules), command)
    budget_spent = cfg.max_hours is not None and state["elapsed"] / 3600 >= cfg.max_hours
    if export_weights and (state["step"] >= cfg.steps or budget_spent):
        return export(model, record, modules, corpus, out, log)
    (out / "result.json").write_text(json.dumps(record, indent=1))
    return record
