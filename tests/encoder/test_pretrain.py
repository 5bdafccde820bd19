"""Pre-training on a tiny real corpus: every loss falls, checkpoints resume, export embeds."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from encoder import ir
from encoder.model import EncoderConfig, MIREncoder
from encoder.training import dataset as ds
from encoder.training.pipeline import run
from encoder.training.pretrain import TrainConfig, evaluate
from tests.conftest import KERNELS, ROOT

pytestmark = pytest.mark.skipif(shutil.which("clang-22") is None, reason="clang-22 not installed")
TINY = EncoderConfig(d_model=48, embed_dim=32, graph_dim=32, text_layers=1, gnn_layers=2, heads=2, ff=96, max_len=96)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Four suite kernels, each at two sizes and two opt levels: 16 modules, 4 programs."""
    out = tmp_path_factory.mktemp("corpus")
    (out / "modules").mkdir()
    rows = []
    for name in ("gemm", "atax", "jacobi-1d", "trisolv"):
        for opt in ("O1", "O2"):
            for size in ("MINI_DATASET", "LARGE_DATASET"):
                text = ir.normalize(
                    ir.compile_to_ir(
                        KERNELS / f"{name}.c", opt=opt, defines=[size], include_dirs=[ROOT / "autotune" / "include"]
                    )
                )
                h = ir.ir_hash(text)
                (out / "modules" / f"{h}.ll").write_text(text)
                rows.append(
                    {
                        "hash": h,
                        "source": "suite",
                        "group": name,
                        "variant": f"{opt} {size}",
                        "split": "val" if name == "trisolv" else "train",
                    }
                )
    with open(out / "index.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return out


def test_a_few_steps_lower_every_loss_and_resume(corpus, tmp_path):
    cfg = TrainConfig(steps=30, batch=8, lr=3e-3, warmup=3, eval_every=1000, eval_batches=1, model=TINY)
    out = tmp_path / "run"
    run(corpus, out, cfg, vocab=300, jobs=1, export_weights=False)  # tokenizer, tensors, 30 steps
    modules = [m for m in ds.load_modules(out / "tensors") if m.split == "train"]
    trained = MIREncoder(replace(TINY, vocab_size=cfg.model.vocab_size))
    trained.load_state_dict(torch.load(out / "checkpoint.pt", weights_only=False)["model"])
    torch.manual_seed(cfg.seed)
    initial = MIREncoder(replace(TINY, vocab_size=cfg.model.vocab_size))
    before = evaluate(initial, modules, cfg, batches=3)  # fixed seeds: the same batches for both
    after = evaluate(trained, modules, cfg, batches=3)
    for task in ("mlm", "gae", "match", "align"):
        assert after[task] < before[task], (task, before[task], after[task])
    # a second run with more steps resumes from the checkpoint instead of starting over
    cfg.steps = 33
    run(corpus, out, cfg, vocab=300, jobs=1, export_weights=False)
    steps = [json.loads(x)["step"] for x in (out / "log.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 34))


def test_warm_start_from_exported_weights(corpus, tmp_path):
    from encoder.embedding import save_weights

    cfg = TrainConfig(steps=2, batch=4, eval_every=1000, eval_batches=1, model=TINY)
    first = tmp_path / "first"
    run(corpus, first, cfg, vocab=300, jobs=1, export_weights=False)
    model = MIREncoder(cfg.model)
    model.load_state_dict(torch.load(first / "checkpoint.pt", weights_only=False)["model"])
    weights = tmp_path / "assets" / "w.pt"
    save_weights(model, weights)
    shutil.copyfile(first / "tokenizer.json", weights.parent / "tokenizer.json")
    warm = TrainConfig(
        steps=1, batch=4, lr=0.0, warmup=1, eval_every=1000, eval_batches=1, model=TINY, init_from=weights
    )
    # vocab ignored: the tokenizer is reused
    run(corpus, tmp_path / "second", warm, vocab=999, jobs=1, export_weights=False)
    assert (tmp_path / "second" / "tokenizer.json").read_text() == (first / "tokenizer.json").read_text()
    got = torch.load(tmp_path / "second" / "checkpoint.pt", weights_only=False)["model"]
    # lr 0: the one step changes nothing, so the checkpoint holds the (fp16-rounded) warm-start weights
    w = got["text.positions.weight"]
    assert torch.allclose(w, model.state_dict()["text.positions.weight"].half().float())


def test_pack_round_trip_and_training_from_a_pack(corpus, tmp_path):
    """The compressed pack holds exactly the tensors, and a run trains from it alone."""
    from encoder.embedding import load_model
    from encoder.training.pack import pack, unpack
    from encoder.training.pipeline import run_pack

    cfg = TrainConfig(steps=1, batch=4, eval_every=1000, eval_batches=1, model=TINY)
    src = tmp_path / "src"
    run(corpus, src, cfg, vocab=300, jobs=1, export_weights=False)
    modules = ds.load_modules(src / "tensors")
    pack(modules, tmp_path / "t.pack", {"vocab_size": cfg.model.vocab_size})
    back, meta = unpack(tmp_path / "t.pack")
    assert meta == {"vocab_size": cfg.model.vocab_size}
    assert [m.hash for m in back] == [m.hash for m in modules]
    for a, b in zip(modules, back, strict=True):
        assert (a.group, a.split, a.source) == (b.group, b.split, b.source)
        assert torch.equal(a.ids, b.ids)
        for key in ("x", "node_kind", "edge_index", "edge_type", "edge_pos"):
            assert torch.equal(getattr(a.graph, key), getattr(b.graph, key)), key
    cfg2 = TrainConfig(steps=3, batch=4, eval_every=1000, eval_batches=1, workers=1, model=replace(TINY))
    record = run_pack(tmp_path / "t.pack", tmp_path / "gpu", cfg2, command="encoder pretrain --pack t.pack")
    assert record["steps"] == 3 and record["batch"] == 4
    model = load_model(tmp_path / "gpu" / "weights.pt")
    assert model.cfg.vocab_size == cfg.model.vocab_size


def test_batches_depend_only_on_seed_and_step(corpus, tmp_path):
    """Any number of batch workers, or a resumed run, draws the same batches."""
    from encoder.training.objectives import Batches

    cfg = TrainConfig(steps=1, batch=4, eval_every=1000, eval_batches=1, model=TINY)
    run(corpus, tmp_path / "r", cfg, vocab=300, jobs=1, export_weights=False)
    modules = ds.load_modules(tmp_path / "r" / "tensors")
    whole = list(Batches(modules, cfg, 0, 4))
    tail = list(Batches(modules, cfg, 2, 4))
    for a, b in zip(whole[2:], tail, strict=True):
        assert torch.equal(a["masked"], b["masked"]) and torch.equal(a["neg_ei"], b["neg_ei"])
    assert not torch.equal(whole[0]["masked"], whole[1]["masked"])


def test_match_head_stage_changes_only_the_head_and_pairs_are_what_they_say(corpus, tmp_path):
    """The second stage (`encoder match-head`) refits the matching head on whole modules."""
    import random

    from encoder.training import evaluate as ev
    from encoder.training.match_head import train_match_head

    cfg = TrainConfig(steps=5, batch=8, lr=3e-3, warmup=1, eval_every=1000, eval_batches=1, model=TINY)
    run(corpus, tmp_path / "r", cfg, vocab=300, jobs=1, export_weights=False)
    modules = ds.load_modules(tmp_path / "r" / "tensors")
    pairs = ev.matching_pairs(modules, random.Random(0))
    assert [i for i, j in pairs["own"]] == [j for i, j in pairs["own"]] == list(range(len(modules)))
    assert all(modules[i].group != modules[j].group for i, j in pairs["other_program"])
    assert all(modules[i].group == modules[j].group and i != j for i, j in pairs["sibling"])
    assert len(pairs["sibling"]) == len(modules)  # every program here has four variants

    torch.manual_seed(0)
    model = MIREncoder(replace(TINY, vocab_size=300))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="four programs"):  # trisolv is held out: three train programs
        train_match_head(model, modules, epochs=1, log=lambda s: None)
    everything = [replace(m, split="train") for m in modules]
    rec = train_match_head(model, everything, epochs=3, max_modules=100, log=lambda s: None)
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("match.") for k in changed), changed
    assert rec["modules"] == 16 and rec["programs"] == 4 and rec["dev_programs"] == 2
    check = ev.matching_check(model, modules)
    assert set(check) >= {"intact_match_acc", "intact_match_own", "intact_match_sibling", "intact_match_modules"}
