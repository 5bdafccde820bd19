"""Several workers on one study on PostgreSQL (issue 14): is every configuration measured once, and faster?

    python -m experiments.scale_out [--trials 40] [--sleep 1.0] [--real-budget 12]

Two parts, each on a fresh database of a throwaway PostgreSQL server (tests/postgres.py: Debian's
postgresql package, a temporary cluster on a local port):

* stand-in measurements: jacobi-1d's recorded replay sub-space, each measurement a recorded one
  that takes `--sleep` seconds (tests/search/scale_worker.py); one worker, then two, then two
  with one of them killed with `kill -9` in its fourth measurement, then two with the server
  stopped for a few seconds mid-study, each to `--trials`;
* one real run: `autotune run kernels/jacobi-1d.c -D MINI_DATASET --strategy random`, one worker
  pinned to CPU 0, then two workers pinned to CPUs 0 and 1 (this machine has two), each to
  `--real-budget` measurements.

Per run: wall time, configurations measured, distinct, measured twice, trials lost (a worker's
measurement missing from the study), and the budget overshoot. Writes results/scale_out.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from autotune.search.storage import open_storage
from experiments.provenance import ROOT, git_commit, machine_line, now
from experiments.report import markdown_table


def _measured(url: str, study: str) -> list[str]:
    st = optuna.load_study(study_name=study, storage=open_storage(url)[0])
    done = st.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return [t.user_attrs["key"] for t in done if t.user_attrs.get("measured")]


def _row(name: str, workers: int, budget: int, wall: float, url: str, study: str, printed: list[str] | None) -> dict:
    keys = _measured(url, study)
    lost = len(set(printed) - set(keys)) if printed is not None else float("nan")
    return {
        "run": name,
        "workers": workers,
        "budget": budget,
        "wall_s": round(wall, 1),
        "measured": len(keys),
        "distinct": len(set(keys)),
        "measured_twice": len(keys) - len(set(keys)),
        "lost": lost,
        "over_budget": max(0, len(keys) - budget),
    }


OUTAGE_S = 5.0  # how long the server is down in the restart run


def stand_in(server, n: int, trials: int, sleep: float, event: str | None, tmp: Path) -> dict:
    """`n` stand-in workers to `trials`; event: None, "kill" (kill -9 one worker in its fourth
    measurement) or "restart" (stop the server in the tenth measurement, start it OUTAGE_S later)."""
    url = server.new_database()
    cmd = [sys.executable, "-m", "tests.search.scale_worker", url, "k", "--budget", str(trials), "--sleep", str(sleep)]
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*cmd, "--seed", str(i), "--out", str(tmp / f"out{i}")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    printed: list[str] = []
    if event is not None:
        for line in procs[0].stdout:
            printed.append(line)
            if line.startswith("MEASURING 3" if event == "kill" else "MEASURING 10"):
                break
        if event == "kill":
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait()
        else:
            server.stop()
            time.sleep(OUTAGE_S)
            server.start()
    for p in procs:
        out, err = p.communicate()
        printed += out.splitlines()
        if p.returncode not in (0, -signal.SIGKILL):
            raise SystemExit(f"a worker failed: {err[-2000:]}")
    wall = time.perf_counter() - t0
    keys = [ln.split()[1] for ln in printed if ln.startswith("MEASURED ")]
    what = {None: "", "kill": ", one worker killed (kill -9)", "restart": f", server down {OUTAGE_S:g} s mid-study"}
    name = f"stand-in ({sleep:g} s a measurement)" + what[event]
    return _row(name, n, trials, wall, url, "k", keys)


def real(server, cpus: list[int], budget: int, tmp: Path) -> dict:
    url = server.new_database()
    env = {**os.environ, "AUTOTUNE_CACHE": str(tmp / "cache"), "AUTOTUNE_DB": str(tmp / "m.db")}
    base = [sys.executable, "-m", "autotune", "run", str(ROOT / "kernels" / "jacobi-1d.c"), "-D", "MINI_DATASET"]
    base += ["--strategy", "random", "--budget", str(budget), "--storage", url, "--study", "j", "--no-record"]
    t0 = time.perf_counter()
    procs = []
    for c in cpus:
        cmd = [*base, "--cpus", str(c), "--seed", str(c), "--out", str(tmp / f"real{c}")]
        procs.append(subprocess.Popen(cmd, env=env, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"a real worker failed: {err[-2000:]}")
    wall = time.perf_counter() - t0
    return _row("real: jacobi-1d MINI, `autotune run`", len(cpus), budget, wall, url, "j", None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--sleep", type=float, default=1.0)
    ap.add_argument("--real-budget", type=int, default=12)
    ap.add_argument("--out", default=str(ROOT / "results"))
    a = ap.parse_args()
    import tempfile

    from tests.postgres import server_bin, throwaway_server

    rows = []
    with tempfile.TemporaryDirectory() as d, throwaway_server() as server:
        tmp = Path(d)
        for n, event in ((1, None), (2, None), (2, "kill"), (2, "restart")):
            rows.append(stand_in(server, n, a.trials, a.sleep, event, tmp / f"s{n}{event}"))
            print(rows[-1], flush=True)
        for cpus in ([0], [0, 1]):
            rows.append(real(server, cpus, a.real_budget, tmp / f"r{len(cpus)}"))
            print(rows[-1], flush=True)
        version = subprocess.run([str(server_bin() / "postgres"), "--version"], capture_output=True, text=True)
    import pandas as pd

    table = pd.DataFrame(rows)
    one, two = table.iloc[0]["wall_s"], table.iloc[1]["wall_s"]
    r1, r2 = table.iloc[4]["wall_s"], table.iloc[5]["wall_s"]
    cmd = f"python -m experiments.scale_out --trials {a.trials} --sleep {a.sleep:g} --real-budget {a.real_budget}"
    lines = [
        "# Scale-out: workers sharing one study on PostgreSQL",
        "",
        f"Command: `{cmd}`  ",
        f"Date: {now()}; commit {git_commit()}; machine: {machine_line()}; server: {version.stdout.strip()} "
        "(a throwaway cluster on this machine, tests/postgres.py); psycopg "
        f"{__import__('psycopg').__version__}, optuna {optuna.__version__}.",
        "",
        "Stand-in runs: jacobi-1d's recorded replay sub-space (60 configurations), random strategy, each "
        f"measurement a recorded one that sleeps {a.sleep:g} s (tests/search/scale_worker.py), so the workers "
        "do not time each other; the killed run kills one worker with `kill -9` in its fourth measurement; the "
        f"restart run stops the server (pg_ctl stop -m fast: every connection dropped) in a worker's tenth "
        f"measurement and starts it again {OUTAGE_S:g} s later. "
        "Real runs: `autotune run` timing jacobi-1d at MINI, each worker pinned to its own CPU with `--cpus`. "
        "`lost`: measurements a worker printed that the study does not hold.",
        "",
        markdown_table(table),
        "",
        f"Two workers took {two / one:.2f} of one worker's wall time on the stand-in runs and {r2 / r1:.2f} on the "
        "real ones (where one worker on CPU 0 and two on CPUs 0 and 1 each measure with one core: the "
        "`threads` knob then has one CPU to run on).",
    ]
    (Path(a.out) / "scale_out.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
