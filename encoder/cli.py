"""The `encoder` command line: corpus, pretrain, embed.

Bad input gets one line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path


def cmd_pretrain(a: argparse.Namespace) -> int:
    from encoder.model import EncoderConfig
    from encoder.pretrain import TrainConfig, run

    cfg = TrainConfig(
        steps=a.steps,
        batch=a.batch,
        lr=a.lr,
        seed=a.seed,
        max_hours=a.hours,
        init_from=Path(a.init_from) if a.init_from else None,
        eval_every=a.eval_every,
        model=EncoderConfig(d_model=a.dim, embed_dim=a.dim, text_layers=a.layers, max_len=a.max_len),
    )
    command = shlex.join(["encoder", *sys.argv[1:]])
    run(Path(a.corpus), Path(a.out), cfg, a.vocab, a.jobs, export=not a.no_export, command=command)
    return 0


def cmd_embed(a: argparse.Namespace) -> int:
    from encoder.embedding import Embedder

    emb = Embedder(cache_dir=Path(a.cache) if a.cache else None, include_dirs=a.include)
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

    c = sub.add_parser("corpus", help="build the pre-training corpus")
    try:
        from encoder.corpus import add_corpus_arguments, run_corpus

        add_corpus_arguments(c)
        c.set_defaults(func=run_corpus)
    except ImportError:  # pragma: no cover - corpus builder missing from this install
        c.set_defaults(func=lambda a: (print("encoder: corpus builder not available", file=sys.stderr), 2)[1])

    t = sub.add_parser("pretrain", help="pre-train on a corpus (resumable), then export weights and model card")
    t.add_argument("--corpus", default="build/corpus")
    t.add_argument("--out", default="build/pretrain")
    t.add_argument("--steps", type=int, default=4000)
    t.add_argument("--hours", type=float, default=None, help="stop after this much training time (resumable)")
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--lr", type=float, default=5e-4)
    t.add_argument("--vocab", type=int, default=8000)
    t.add_argument("--dim", type=int, default=256)
    t.add_argument("--layers", type=int, default=4)
    t.add_argument("--max-len", type=int, default=256)
    t.add_argument("--eval-every", type=int, default=250)
    t.add_argument("--jobs", type=int, default=2)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--no-export", action="store_true", help="train only; do not overwrite the shipped weights")
    t.add_argument("--init-from", default=None, metavar="WEIGHTS.pt", help="warm start a new run from exported weights")
    t.set_defaults(func=cmd_pretrain)

    e = sub.add_parser("embed", help="embed .c/.cl/.cu/.ll files with the shipped weights")
    e.add_argument("files", nargs="+")
    e.add_argument("--json", action="store_true")
    e.add_argument("--batch", type=int, default=16)
    e.add_argument("-I", dest="include", action="append", default=[], metavar="DIR", help="include directory")
    e.add_argument("--cache", default=".encoder-cache", help="embedding cache folder ('' to disable)")
    e.set_defaults(func=cmd_embed)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except FileNotFoundError as exc:
        print(f"encoder: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("encoder: interrupted (checkpoints keep the progress; run the same command to resume)", file=sys.stderr)
        return 130
    except Exception as exc:  # IRError and friends: one line
        from encoder.ir import IRError

        if isinstance(exc, IRError):
            print(f"encoder: error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
