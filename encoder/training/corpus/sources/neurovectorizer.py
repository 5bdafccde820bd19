"""NeuroVectorizer's loops (CGO'20) at O3, plain and with loop pragmas drawn from its action space."""

from __future__ import annotations

import random
import tarfile

from encoder.atomic import atomic_write_text
from encoder.datasets import ModuleRecipe
from encoder.training.corpus.jobs import SourceContext, SourceJob
from encoder.training.corpus.pragmas import insert_loop_pragmas

# NeuroVectorizer's action space: VF x IF.
NV_VFS = (1, 2, 4, 8, 16, 32, 64)
NV_IFS = (1, 2, 4, 8, 16)
NV_PRAGMAS_PER_FILE = 2


def jobs(ctx: SourceContext, limit: int | None) -> list[SourceJob]:
    """One job per loop file; the archive's `header.h` is unpacked into the work folder for them."""
    archive = ctx.data_dir / "vectorization" / "neurovectorizer_loops.tar.gz"
    inc_dir = ctx.work_dir / "neurovectorizer"
    files: dict[str, str] = {}
    with tarfile.open(archive, "r:gz") as tf:
        for m in tf.getmembers():
            parts = m.name.split("/")
            if not m.isfile() or len(parts) < 2 or parts[-2] != "training_data":
                continue
            fh = tf.extractfile(m)
            if fh is None:
                continue
            text = fh.read().decode("utf-8", errors="replace")
            if parts[-1] == "header.h":
                inc_dir.mkdir(parents=True, exist_ok=True)
                if not (inc_dir / "header.h").exists() or (inc_dir / "header.h").read_text() != text:
                    atomic_write_text(inc_dir / "header.h", text)
            elif parts[-1].endswith(".c") and parts[-1] != "header.c":
                files[parts[-1]] = text
    inc = (str(inc_dir),)
    pairs = [(vf, if_) for vf in NV_VFS for if_ in NV_IFS]
    out = []
    for name in sorted(files)[:limit]:  # the pragma transforms are the slow part
        text = files[name]
        variants = [ModuleRecipe("O3", "source", text, "c", "O3", (), (), inc)]
        rng = random.Random(f"{ctx.seed}:neurovectorizer:{name}")
        for vf, if_ in rng.sample(pairs, NV_PRAGMAS_PER_FILE):
            ptext, n = insert_loop_pragmas(text, f"clang loop vectorize_width({vf}) interleave_count({if_})")
            if n:
                variants.append(ModuleRecipe(f"O3 vf{vf} if{if_}", "source", ptext, "c", "O3", (), (), inc))
        out.append(SourceJob("neurovectorizer", name, f"neurovectorizer/{name}", tuple(variants)))
    return out
