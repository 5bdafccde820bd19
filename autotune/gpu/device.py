"""The OpenCL device the kernels run on, and its limits (asked of the device, through `clhost --query`).

Why ask the device: the work-group sizes a space may offer depend on it (PoCL's CPU device takes
4096 work items a group, a GPU typically 1024), and a configuration the device would reject must
never be proposed. The host program is built once into the build cache (its own content hash)
and asked once per process.
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from autotune.build.cache import compile_once
from autotune.build.compilers import require_clang
from autotune.errors import UserError
from autotune.gpu.program import HOST, LINK_FLAGS
from autotune.paths import cache_dir

APT_PACKAGES = "pocl-opencl-icd ocl-icd-opencl-dev"


@dataclass(frozen=True)
class Device:
    platform: str
    name: str
    vendor: str
    version: str
    driver: str
    type: str  # cpu | gpu | accelerator | other
    max_work_group_size: int
    max_work_item_sizes: tuple[int, ...]
    local_mem_size: int
    compute_units: int

    def describe(self) -> str:
        return f"{self.name} ({self.platform}, {self.version}, driver {self.driver})"


def host_binary() -> Path:
    """`clhost` built from the shipped source (once per content); UserError when OpenCL cannot be linked."""
    text = HOST.read_bytes()
    key = hashlib.sha256(text + b"\0" + require_clang().encode()).hexdigest()[:16]
    exe = (cache_dir("builds") / f"clhost-{key}").resolve()
    if exe.exists():
        return exe
    exe.parent.mkdir(parents=True, exist_ok=True)
    tmp = exe.with_name(exe.name + ".tmp")
    cmd = [require_clang(), "-O2", "-std=c11", str(HOST), "-o", str(tmp), *LINK_FLAGS]
    rc, log = compile_once(cmd, exe.parent, 300)
    if rc != 0:
        raise UserError(
            f"{HOST}: cannot build the OpenCL host program ({log.strip().splitlines()[0] if log.strip() else rc}); "
            f"install OpenCL with `apt-get install {APT_PACKAGES}`"
        )
    tmp.replace(exe)
    return exe


def parse_query(text: str) -> Device:
    """`clhost --query` output (one `key value` per line) as a Device."""
    facts = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        facts[key] = value.strip()
    return Device(
        platform=facts.get("platform", "?"),
        name=facts.get("device", "?"),
        vendor=facts.get("vendor", "?"),
        version=facts.get("version", "?"),
        driver=facts.get("driver", "?"),
        type=facts.get("type", "other"),
        max_work_group_size=int(facts["max_work_group_size"]),
        max_work_item_sizes=tuple(int(v) for v in facts["max_work_item_sizes"].split()),
        local_mem_size=int(facts.get("local_mem_size", 0)),
        compute_units=int(facts.get("compute_units", 1)),
    )


@functools.lru_cache(maxsize=1)
def current() -> Device:
    """The device kernels run on (AUTOTUNE_CL_DEVICE=P:D picks another); UserError when there is none."""
    exe = host_binary()
    r = subprocess.run([str(exe), "--query"], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        why = (r.stderr.strip().splitlines() or ["no output"])[-1].removeprefix("@autotune error ")
        raise UserError(f"no OpenCL device ({why}); on a CPU install PoCL: `apt-get install {APT_PACKAGES}`")
    return parse_query(r.stdout)
