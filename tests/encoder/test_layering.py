"""Inference never imports training: `encoder.embed` and `encoder embed` leave `encoder.training` unloaded.

Why it matters: the tuner imports `encoder` to embed variants; the training package (corpus
builder, pre-training, export) is not needed for that and may not even be installed beside it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from encoder.embedding import WEIGHTS
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not WEIGHTS.exists(), reason="no shipped weights in encoder/assets")

# A module as `clang -S -emit-llvm` writes it: IR text, so no compiler is needed.
IR = """define double @dot(ptr %a, ptr %b, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i1, %loop ]
  %s = phi double [ 0.0, %entry ], [ %s1, %loop ]
  %pa = getelementptr double, ptr %a, i64 %i
  %pb = getelementptr double, ptr %b, i64 %i
  %x = load double, ptr %pa
  %y = load double, ptr %pb
  %m = fmul double %x, %y
  %s1 = fadd double %s, %m
  %i1 = add i64 %i, 1
  %c = icmp slt i64 %i1, %n
  br i1 %c, label %loop, label %done
done:
  ret double %s1
}
"""

PROBE = """
import json, sys
from pathlib import Path
import encoder
ir, ll = sys.argv[1], sys.argv[2]
vec = encoder.embed([ir])
after_api = sorted(m for m in sys.modules if m.startswith("encoder.training"))
Path(ll).write_text(ir)
from encoder import cli
rc = cli.main(["embed", "--cache", "", ll])
after_cli = sorted(m for m in sys.modules if m.startswith("encoder.training"))
print(json.dumps({"shape": list(vec.shape), "api": after_api, "rc": rc, "cli": after_cli}))
"""


def test_embedding_never_imports_the_training_package(tmp_path):
    env = {"ENCODER_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    p = subprocess.run(
        [sys.executable, "-c", PROBE, IR, str(tmp_path / "dot.ll")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got["shape"] == [1, 256] and got["rc"] == 0
    assert got["api"] == [], "encoder.embed imported the training package"
    assert got["cli"] == [], "`encoder embed` imported the training package"
