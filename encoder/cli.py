"""The `encoder` command line (pre-training, corpus and embedding arrive with the encoder issue)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="encoder", description="MIREncoder: multi-modal LLVM-IR embeddings")
    p.add_argument("--version", action="store_true", help="print the version")
    a = p.parse_args(argv)
    from encoder import __version__

    if a.version:
        print(__version__)
        return 0
    print("encoder: no commands yet (corpus, pretrain and embed are being built)", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
