"""The `encoder` command line: corpus, pretrain, embed.

Bad input gets one line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path


def cmd_corpus(argv: list[str]) -> int:
    from encoder.training.corpus.cli import main_corpus

    return main_corpus(argv)


def cmd_pretrain(a: argparse.Namespace) -> int:
    from encoder.model import EncoderConfig
    from encoder.training.pipeline import run, run_pack
    from encoder.training.pretrain import TrainConfig

    cfg = TrainConfig(
        steps=a.steps,
        batch=a.batch,
        lr=a.lr,
        seed=a.seed,
        max_hours=a.hours,
        init_from=Path(a.init_from) if a.init_from else None,
        eval_every=a.eval_every,
        device=a.device,
        workers=a.workers,
        checkpoint_every_s=a.checkpoint_every,
        model=EncoderConfig(d_model=a.dim, embed_dim=a.dim, text_layers=a.layers, max_len=a.max_len),
    )
    command = shlex.join(["encoder", *sys.argv[1:]])
    if a.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print(
                f"encoder: error: --device {a.device}: this torch sees no CUDA GPU; use --device cpu", file=sys.stderr
            )
            return 2
    if a.pack:
        if not Path(a.pack).exists():
            raise FileNotFoundError(f"{a.pack}: no tensor pack; make one with `encoder pack --out {a.pack}`")
        run_pack(Path(a.pack), Path(a.out), cfg, command=command)
    else:
        run(Path(a.corpus), Path(a.out), cfg, a.vocab, a.jobs, export_weights=not a.no_export, command=command)
    return 0


def cmd_pack(a: argparse.Namespace) -> int:
    from encoder import tokenizer as tk
    from encoder.training import dataset as ds
    from encoder.training.pack import pack

    run = Path(a.run)
    if not (run / "tensors").is_dir():
        raise FileNotFoundError(f"{run}/tensors: no pre-processed tensors; run `encoder pretrain --out {run}` first")
    modules = ds.load_modules(run / "tensors")
    vocab = tk.load(run / "tokenizer.json").get_vocab_size()
    size = pack(modules, Path(a.out), {"vocab_size": vocab})
    print(f"{a.out}: {len(modules)} modules, {size / 2**20:.1f} MiB (tokenizer {run / 'tokenizer.json'})")
    return 0


def cmd_export(a: argparse.Namespace) -> int:
    import json

    import torch

    from encoder.embedding import load_model
    from encoder.training import dataset as ds
    from encoder.training.pipeline import export

    run, weights = Path(a.run), Path(a.weights) if a.weights else Path(a.run) / "weights.pt"
    model = load_model(weights)
    record = torch.load(weights, weights_only=False).get("extra", {})
    if a.command:
        record["command"] = a.command
    modules = ds.load_modules(Path(a.tensors))
    if not modules:
        raise FileNotFoundError(f"{a.tensors}: no tensor shards; run `encoder pretrain` on the corpus first")
    result = export(model, record, modules, Path(a.corpus), run)
    print(json.dumps({k: v for k, v in result.items() if k.startswith("retrieval")}))
    return 0


def cmd_match_head(a: argparse.Namespace) -> int:
    """Second stage: fit the matching head on whole train modules (encoder frozen), in the weights file."""
    import json

    import torch

    from encoder.embedding import load_model, save_weights
    from encoder.training import dataset as ds
    from encoder.training.match_head import train_match_head

    weights = Path(a.weights) if a.weights else Path(a.run) / "weights.pt"
    if not weights.exists():
        raise FileNotFoundError(f"{weights}: no weights; pass --run with a finished pre-training run or --weights")
    torch.set_num_threads(a.threads)
    model = load_model(weights)
    extra = torch.load(weights, weights_only=False).get("extra", {})
    modules = ds.load_modules(Path(a.tensors))
    if not modules:
        raise FileNotFoundError(f"{a.tensors}: no tensor shards; run `encoder pretrain` on the corpus first")
    record = train_match_head(model, modules, seed=a.seed, epochs=a.epochs, max_modules=a.modules)
    save_weights(model, weights, extra={**extra, "match_head": record})
    print(json.dumps(record))
    return 0


def cmd_embed(a: argparse.Namespace) -> int:
    from encoder.embedding import Embedder

    if a.windows < 1:
        print("encoder: error: --windows must be at least 1", file=sys.stderr)
        return 2
    emb = Embedder(cache_dir=Path(a.cache) if a.cache else None, include_dirs=a.include, windows=a.windows)
    vecs = emb.embed(a.files, batch_size=a.batch)
    if a.json:
        print(
            json.dumps(
                {"dim": emb.dim, "embeddings": {f: v.round(6).tolist() for f, v in zip(a.files, vecs, strict=True)}}
            )
        )
    else:
        for f, v in zip(a.files, vecs, strict=True):
            print(
                f"{f}\t{' '.join(f'{x:.4f}' for x in v[:8])} ... ({len(v)} dims, norm {float((v**2).sum()) ** 0.5:.3f})"
            )
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="encoder", description="MIREncoder: multi-modal LLVM-IR embeddings")
    p.add_argument("--version", action="version", version="encoder 0.1.0")
    sub = p.add_subparsers(dest="command", required=True)

    # `encoder corpus` parses its own options (`main` hands them over), so that building this parser,
    # and so `encoder embed`, never imports the training package
    c = sub.add_parser("corpus", help="build the pre-training corpus", add_help=False)
    c.add_argument("args", nargs=argparse.REMAINDER)
    c.set_defaults(func=lambda a: cmd_corpus(a.args))

    t = sub.add_parser("pretrain", help="pre-train on a corpus (resumable), then export weights and model card")
    t.add_argument("--corpus", default="build/corpus")
    t.add_argument("--out", default="build/pretrain")
    t.add_argument("--steps", type=int, default=4000)
    t.add_argument("--hours", type=float, default=None, help="stop after this much training time (resumable)")
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--lr", type=float, default=5e-4)
    t.add_argument("--vocab", type=int, default=8000)
    t.add_argument("--dim", type=int, default=256)
    t.add_argument("--layers", type=int, default=2)
    t.add_argument("--max-len", type=int, default=256)
    t.add_argument("--eval-every", type=int, default=250)
    t.add_argument("--jobs", type=int, default=2)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--no-export", action="store_true", help="train only; do not overwrite the shipped weights")
    t.add_argument("--init-from", default=None, metavar="WEIGHTS.pt", help="warm start a new run from exported weights")
    t.add_argument("--pack", default=None, metavar="FILE", help="train from a tensor pack (no corpus needed)")
    t.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    t.add_argument("--workers", type=int, default=0, help="processes preparing batches (useful with a GPU)")
    t.add_argument("--checkpoint-every", type=float, default=300.0, metavar="S", help="seconds between checkpoints")
    t.set_defaults(func=cmd_pretrain)

    k = sub.add_parser("pack", help="compress a run's pre-processed tensors into one file, to train elsewhere")
    k.add_argument("--run", default="build/pretrain", help="the pre-training folder with tensors/ and tokenizer.json")
    k.add_argument("--out", required=True)
    k.set_defaults(func=cmd_pack)

    x = sub.add_parser("export", help="check and install weights trained elsewhere: retrieval check, model card")
    x.add_argument("--run", required=True, help="the folder of the run (log.jsonl, weights.pt)")
    x.add_argument("--weights", default=None, help="default RUN/weights.pt")
    x.add_argument("--corpus", default="build/corpus")
    x.add_argument("--tensors", default="build/pretrain/tensors", help="pre-processed tensors of the same corpus")
    x.add_argument("--command", action="append", default=None, help="the commands that made the run (model card)")
    x.set_defaults(func=cmd_export)

    h = sub.add_parser("match-head", help="second stage: fit the matching head on whole modules, encoder frozen")
    h.add_argument("--run", default="build/pretrain", help="the run whose weights.pt is updated in place")
    h.add_argument("--weights", default=None, help="default RUN/weights.pt")
    h.add_argument("--tensors", default="build/pretrain/tensors", help="pre-processed tensors of the corpus")
    h.add_argument("--modules", type=int, default=0, help="train modules embedded for the head (0: all)")
    h.add_argument("--epochs", type=int, default=60)
    h.add_argument("--seed", type=int, default=0)
    h.add_argument("--threads", type=int, default=1, help="torch threads")
    h.set_defaults(func=cmd_match_head)

    e = sub.add_parser("embed", help="embed .c/.cl/.cu/.ll files with the shipped weights")
    e.add_argument("files", nargs="+")
    e.add_argument("--json", action="store_true")
    e.add_argument("--batch", type=int, default=16)
    e.add_argument("--windows", type=int, default=1, help="text windows of 256 tokens per module (default 1)")
    e.add_argument("-I", dest="include", action="append", default=[], metavar="DIR", help="include directory")
    e.add_argument("--cache", default=".encoder-cache", help="embedding cache folder ('' to disable)")
    e.set_defaults(func=cmd_embed)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv[:1] == ["corpus"]:
            return cmd_corpus(argv[1:])
        args = parser().parse_args(argv)
        return args.func(args)
    except FileNotFoundError as exc:
        print(f"encoder: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("encoder: interrupted (checkpoints keep the progress; run the same command to resume)", file=sys.stderr)
        return 130
    except MemoryError:
        print("encoder: error: out of memory; for `encoder embed`, pass fewer or smaller files", file=sys.stderr)
        return 2
    except Exception as exc:  # IRError and friends: one line
        from encoder.errors import IRError

        if isinstance(exc, IRError):
            print(f"encoder: error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
