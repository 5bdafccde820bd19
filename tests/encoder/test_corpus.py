"""The pre-training corpus builder: a tiny real build, its invariants, and resuming.

The build tests compile real programs with clang-22 (a few seconds in all):
one suite kernel at one size, one NeuroVectorizer loop, one csmith program.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from encoder.datasets import default_data_dir
from encoder.training import corpus as C
from encoder.training.corpus import pool
from encoder.training.corpus.sources import csmith

NV_ARCHIVE = default_data_dir() / "vectorization" / "neurovectorizer_loops.tar.gz"
PE_ARCHIVE = default_data_dir() / "pretraining_ir" / "ir2vec_pe_benchmarks_llvm20.tar.gz"
HAVE_CSMITH = csmith.available()
needs_pe_data = pytest.mark.skipif(not PE_ARCHIVE.exists(), reason="shared/data not present")


def _index(out: Path) -> list[dict[str, str]]:
    with (out / "index.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _stats(out: Path) -> dict:
    return json.loads((out / "stats.json").read_text())


# -- text transform and split (no compiler needed) ---------------------------------------------


def test_pragma_goes_before_innermost_loops_only():
    src = """
/* for (int z = 0; z < 3; z++) in a comment */
void f(int n, double a[n][n]) {
#pragma omp parallel for
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            a[i][j] += 1;
        }
    for (int k = 0; k < n; k++) a[k][k] = 0;
}
"""
    out, n = C.insert_loop_pragmas(src, "clang loop vectorize_width(4)")
    assert n == 2
    lines = out.splitlines()
    heads = [lines[i + 1].strip() for i, line in enumerate(lines) if "clang loop" in line]
    assert heads == ["for (int j = 0; j < n; j++) {", "for (int k = 0; k < n; k++) a[k][k] = 0;"]
    # the OpenMP directive still sits right above its (outer) loop
    assert lines[lines.index("#pragma omp parallel for") + 1].strip().startswith("for (int i")


def test_pragma_none_without_loops():
    assert C.insert_loop_pragmas("int main(void) { return 0; }\n", "x") == ("int main(void) { return 0; }\n", 0)


def test_split_is_by_group_deterministic_and_about_five_percent():
    groups = [f"g{i}" for i in range(4000)]
    splits = [C.split_of(g, 0) for g in groups]
    assert splits == [C.split_of(g, 0) for g in groups]
    frac = splits.count("validation") / len(groups)
    assert 0.035 < frac < 0.065
    assert splits != [C.split_of(g, 1) for g in groups]  # the seed matters


def test_every_listed_source_gives_the_same_named_job_list_twice(tmp_path):
    """Resuming skips jobs by (source, key): a list must be deterministic, its keys unique, named for its source."""
    from encoder.training.corpus.sources import ALL_SOURCES, FILLER, LISTED
    from encoder.training.corpus.sources.suite import KERNELS_DIR

    assert ALL_SOURCES[-1] == FILLER and set(ALL_SOURCES) == {*LISTED, FILLER}
    ctx = C.SourceContext(default_data_dir(), KERNELS_DIR, tmp_path, 0)
    data = {"devmap": "devmap", "coarsening": "thread_coarsening", "neurovectorizer": "vectorization"}
    data["pretraining_ir"] = "pretraining_ir"
    for name, jobs in LISTED.items():
        if name in data and not (ctx.data_dir / data[name]).is_dir():
            continue
        first, again = jobs(ctx, 2), jobs(ctx, 2)
        assert first and first == again, name
        assert {j.source for j in first} == {name} and len({j.key for j in first}) == len(first), name
    assert [csmith.job(0, i) for i in range(3)] == [csmith.job(0, i) for i in range(3)]


# -- a tiny real build --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    if shutil.which("clang-22") is None:
        pytest.skip("clang-22 not installed")
    pytest.importorskip("encoder.ir")
    sources = ["suite"]
    if NV_ARCHIVE.exists():
        sources.append("neurovectorizer")
    if HAVE_CSMITH:
        sources.append("csmith")
    out = tmp_path_factory.mktemp("corpus")
    C.build_corpus(out, sources=sources, jobs=2, limit=1, seed=0, progress=False)
    return out


def test_index_and_stats_are_well_formed(tiny: Path):
    rows = _index(tiny)
    stats = _stats(tiny)
    assert rows and list(rows[0]) == list(C.INDEX_FIELDS)
    hashes = [r["hash"] for r in rows]
    assert len(hashes) == len(set(hashes)), "duplicate hashes in the index"
    for r in rows:
        text = (tiny / "modules" / f"{r['hash']}.ll").read_text()
        assert len(text) == int(r["n_chars"]) <= C.DEFAULT_MAX_CHARS
        assert r["split"] == C.split_of(r["group"], 0)
    assert len(list((tiny / "modules").glob("*.ll"))) == len(rows)
    side: dict[str, set[str]] = {}
    for r in rows:
        side.setdefault(r["group"], set()).add(r["split"])
    assert all(len(s) == 1 for s in side.values()), "a group in both splits"

    assert stats["seed"] == 0 and stats["tools"]["clang"].startswith("Debian clang")
    for name, s in stats["sources"].items():
        assert s["attempted"] == s["compiled"] + s["failed"], name
        assert s["compiled"] == s["duplicates"] + s["too_large"] + s["kept"], name
        assert s["kept"] == sum(r["source"] == name for r in rows), name
    assert stats["totals"]["kept"] == len(rows)
    assert sum(v["modules"] for v in stats["splits"].values()) == len(rows)
    assert stats["sources"]["suite"]["kept"] > 10  # one kernel, one size: opt levels x flag sets x pragmas
    if NV_ARCHIVE.exists():
        nv = [r for r in rows if r["source"] == "neurovectorizer"]
        assert nv and any(" vf" in r["variant"] for r in nv)  # a pragma variant survived


@pytest.mark.skipif(not HAVE_CSMITH, reason="csmith or libcsmith-dev not installed")
def test_csmith_programs_compile(tiny: Path):
    s = _stats(tiny)["sources"]["csmith"]
    assert s["tasks"] == 1 and s["kept"] >= 1
    assert all(r["group"].startswith("csmith/") for r in _index(tiny) if r["source"] == "csmith")


def test_rerun_does_no_new_work(tiny: Path, monkeypatch):
    before = ((tiny / "index.csv").read_bytes(), (tiny / "done.jsonl").read_bytes())

    def boom(*a, **k):
        raise AssertionError("a finished job ran again")

    monkeypatch.setattr(pool, "run_job", boom)
    sources = list(_stats(tiny)["sources"])
    C.build_corpus(tiny, sources=sources, jobs=1, limit=1, seed=0, progress=False)
    assert ((tiny / "index.csv").read_bytes(), (tiny / "done.jsonl").read_bytes()) == before


def test_resume_after_kill_between_index_and_done(tiny: Path, tmp_path: Path):
    """A build killed after writing a task's index rows but before its done line redoes the task
    without counting its own modules as duplicates or indexing them twice."""
    out = tmp_path / "c"
    shutil.copytree(tiny, out)
    source = "neurovectorizer" if NV_ARCHIVE.exists() else "suite"  # the cheaper task to redo
    want = _stats(out)["sources"][source]
    done = (out / "done.jsonl").read_text().splitlines()
    line = next(i for i, text in enumerate(done) if json.loads(text)["source"] == source)
    (out / "done.jsonl").write_text("\n".join(done[:line] + done[line + 1 :]) + "\n")
    with (out / "index.csv").open("a") as fh:
        fh.write("deadbeef,suite,suite/x")  # and a half-written line
    C.build_corpus(out, sources=[source], jobs=1, limit=1, seed=0, progress=False)
    got = _stats(out)["sources"][source]
    assert {k: got[k] for k in C.COUNT_KEYS} == {k: want[k] for k in C.COUNT_KEYS}
    assert got["kept"] > 0
    rows = _index(out)
    assert len(rows) == len(_index(tiny)) and len({r["hash"] for r in rows}) == len(rows)


def test_seed_mismatch_is_refused(tiny: Path):
    with pytest.raises(ValueError, match="seed"):
        C.build_corpus(tiny, sources=["suite"], jobs=1, limit=1, seed=1, progress=False)


# -- cheap builds from IR only (no compiler) ----------------------------------------------------


@needs_pe_data
def test_too_large_modules_are_counted_not_kept(tmp_path: Path):
    pytest.importorskip("encoder.ir")
    st = C.build_corpus(tmp_path, sources=["pretraining_ir"], jobs=1, limit=2, progress=False, max_chars=100)
    s = st.sources["pretraining_ir"]
    assert (s["attempted"], s["too_large"], s["kept"]) == (2, 2, 0)
    assert _index(tmp_path) == []


@needs_pe_data
def test_duplicates_first_occurrence_wins(tmp_path: Path):
    pytest.importorskip("encoder.ir")
    C.build_corpus(tmp_path, sources=["pretraining_ir"], jobs=1, limit=1, progress=False)
    (row,) = _index(tmp_path)
    text = (tmp_path / "modules" / f"{row['hash']}.ll").read_text()
    again = C.JobResult("copy", [C.RecipeResult("v", True, text=text, hash=row["hash"], n_chars=len(text))], 0.0)
    store = C.CorpusStore(tmp_path, 0)
    try:
        counts = store.record(C.SourceJob("pretraining_ir", "copy", "pretraining_ir/copy", ()), again)
    finally:
        store.close()
    assert counts["duplicates"] == 1 and counts["kept"] == 0
    assert [r["group"] for r in _index(tmp_path)] == [row["group"]]


def test_cli_rejects_unknown_source(tmp_path: Path, capsys):
    from encoder import cli

    assert C.main_corpus(["--out", str(tmp_path), "--sources", "nope", "--no-progress"]) == 2
    assert "unknown corpus sources" in capsys.readouterr().err
    # `encoder corpus` hands its options to the same parser
    assert cli.main(["corpus", "--out", str(tmp_path), "--sources", "nope", "--no-progress"]) == 2
    assert "unknown corpus sources" in capsys.readouterr().err


def test_cli_arguments_parse():
    import argparse

    p = argparse.ArgumentParser()
    C.add_corpus_arguments(p)
    a = p.parse_args(["--out", "x", "--sources", "suite,csmith", "--jobs", "3", "--csmith", "5"])
    assert (a.jobs, a.csmith, a.limit, a.seed, a.target) == (3, 5, None, 0, C.DEFAULT_TARGET)
