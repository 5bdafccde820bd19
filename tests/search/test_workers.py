"""One measuring worker per machine (autotune.search.workers): a second is refused unless CPU sets part them.

The other worker is a real live process of this machine: the test process's parent (older
than this process, so it is the earlier worker) or a child started now (the later one).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import optuna
import psutil
import pytest

from autotune.errors import UserError
from autotune.search import workers
from autotune.search.storage import open_storage
from tests.cli.conftest import autotune, one_line_error
from tests.conftest import KERNELS, needs_clang


def _label(p: psutil.Process, **extra) -> dict:
    return {"host": socket.gethostname(), "pid": p.pid, "started": p.create_time(), **extra}


def _study(tmp_path) -> optuna.Study:
    return optuna.create_study(study_name="s", storage=open_storage(str(tmp_path / "j.log"))[0])


def _register(study: optuna.Study, label: dict) -> None:
    study.set_user_attr(f"{workers.PREFIX}{label['host']} {label['pid']}", label)


@pytest.fixture
def child():
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield p
    p.kill()
    p.wait()


def test_a_worker_that_starts_after_a_live_one_on_this_machine_is_refused(tmp_path):
    study = _study(tmp_path)
    _register(study, _label(psutil.Process().parent()))  # alive, and older than this process
    with pytest.raises(UserError, match="already has a worker measuring on this machine") as err:
        workers.claim(study)
    assert "cpus" in str(err.value)


def test_the_earlier_worker_keeps_the_study(tmp_path, child):
    study = _study(tmp_path)
    _register(study, _label(psutil.Process(child.pid)))  # started after this process
    assert workers.claim(study)["pid"] == psutil.Process().pid


def test_disjoint_cpu_sets_let_two_workers_share_a_machine(tmp_path):
    study = _study(tmp_path)
    _register(study, _label(psutil.Process().parent(), cpus=[0]))
    workers.claim(study, cpus=[1])
    for overlapping in ([0, 1], None):
        with pytest.raises(UserError):
            workers.claim(study, cpus=overlapping)


def test_a_dead_or_remote_worker_does_not_block(tmp_path):
    study = _study(tmp_path)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _register(study, {"host": socket.gethostname(), "pid": gone.pid, "started": 1.0})  # earlier, but gone
    _register(study, {**_label(psutil.Process().parent()), "host": "elsewhere"})  # another machine's
    workers.claim(study)


def test_a_killed_unreaped_worker_is_not_alive(child):
    label = _label(psutil.Process(child.pid))
    assert workers.alive(label)
    child.send_signal(9)
    deadline = time.monotonic() + 5
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not workers.alive(label)  # a zombie measures nothing


@needs_clang
@pytest.mark.slow
def test_autotune_run_refuses_to_time_beside_another_worker(tmp_path):
    journal = str(tmp_path / "j.log")
    cmd = ["run", str(KERNELS / "jacobi-1d.c"), "-D", "MINI_DATASET", "--storage", journal, "--study", "k"]
    cmd += ["--min-reps", "5", "--max-reps", "5", "--out", str(tmp_path / "out")]
    first = autotune(*cmd, "--budget", "1")
    assert first.returncode == 0, first.stderr
    study = optuna.load_study(study_name="k", storage=open_storage(journal)[0])
    _register(study, workers.me())  # this test process: alive, and older than the run it starts next
    second = autotune(*cmd, "--budget", "3")
    one_line_error(second, "already has a worker measuring on this machine")
    assert "--cpus" in second.stderr
    study = optuna.load_study(study_name="k", storage=open_storage(journal)[0])
    assert sum(1 for t in study.trials if t.user_attrs.get("measured")) == 1  # nothing more was timed
