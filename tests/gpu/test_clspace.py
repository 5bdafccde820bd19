"""An OpenCL kernel under the engine: its space (legal on the device by construction), its variants, real runs."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from autotune import programs
from autotune.errors import UserError
from autotune.gpu import clspace
from autotune.gpu.device import Device, parse_query
from autotune.kernel import Kernel
from autotune.measure import Options, stats
from autotune.measure.protocol import Bench
from autotune.space.discover import build_space
from tests.conftest import ROOT, needs_clang

SMALL_GPU = Device("p", "small", "v", "3.0", "1", "gpu", 256, (256, 64, 8), 4096, 8)

MATVEC = ROOT / "kernels" / "opencl" / "matvec.cl"
SCAN = b"""
__kernel void scan(__global const float *in, __global float *out, __local float *tmp) {
  size_t l = get_local_id(0);
  tmp[l] = in[get_global_id(0)];
  barrier(CLK_LOCAL_MEM_FENCE);
  out[get_global_id(0)] = tmp[0] + tmp[l];
}
"""
SCAN_TOML = """
global = [1024]
local = [64]
[args.in]
buffer = 1024
init = "index"
[args.out]
buffer = 1024
output = true
[args.tmp]
local = "8 * wg"
"""


def kernel_at(tmp_path: Path, name: str, cl: bytes, toml: str, **kw) -> Kernel:
    (tmp_path / f"{name}.toml").write_text(toml)
    path = tmp_path / f"{name}.cl"
    path.write_bytes(cl)
    return programs.load(path, **kw)


def test_every_offered_work_group_fits_the_device_and_divides_the_launch():
    k = programs.load(MATVEC, defines=["ROWS=1024"])
    space = clspace.build_space(k, SMALL_GPU)
    assert space["cf"].choices == (1, 2, 4, 8, 16, 32)
    for cf in space["cf"].choices:
        wg = space[f"wg.cf{cf}"]
        launched = 1024 // cf
        sizes = [int(s) for s in wg.choices if s != "auto"]
        assert sizes and max(sizes) == min(256, launched)  # the device's limit, or the launch
        assert all(launched % s == 0 for s in sizes)
    assert space["wg.cf1"].default == "64" and space["wg.cf2"].default == "auto"  # the kernel as described
    assert space["L0.unroll"].site.startswith("matvec:")
    rng = random.Random(0)
    for _ in range(50):  # every configuration is one variant, launched within the limits
        cfg = space.sample(rng)
        v = clspace.make_variant(k, space, cfg)
        spec = v.source.decode().split("at_cl_text")[0]
        glob = int(spec.split('"global ')[1].split("\\")[0])  # the spec's lines end in an octal newline escape
        assert glob * cfg["cf"] == 1024


def test_local_memory_sizes_the_work_group_and_rules_out_auto(tmp_path):
    k = kernel_at(tmp_path, "scan", SCAN, SCAN_TOML)
    space = clspace.build_space(k, SMALL_GPU)
    assert "cf" not in space  # barriers: no coarsening, and the notes say why
    assert any("no thread coarsening for scan: it takes __local memory" in n for n in space.notes)
    # 8 bytes per work item in 4096 bytes of local memory: at most 512, and the device's 256 first
    assert space["wg"].choices[0] == "1" and "auto" not in space["wg"].choices and space["wg"].default == "64"
    small_local = Device(**{**SMALL_GPU.__dict__, "local_mem_size": 1024})
    assert max(int(s) for s in clspace.build_space(k, small_local)["wg"].choices) == 128


def test_the_default_variant_runs_the_kernel_as_given_and_the_knobs_edit_it():
    k = programs.load(MATVEC)
    space = clspace.build_space(k, SMALL_GPU)
    base = clspace.make_variant(k, space, space.default())
    assert base.device.source == k.text and "-DROWS=8192" in base.device.options
    v = clspace.make_variant(
        k, space, {"cf": 4, "cf_mode": "stride", "wg.cf4": "32", "L0.unroll": 8, "cl_math": "fast"}
    )
    src = v.device.source.decode()
    assert "#pragma unroll 8\n    for (int c = 0;" in src and "coarsened by 4 in dimension 0 (stride)" in src
    assert "-cl-fast-relaxed-math" in v.device.options and '"local 32\\012"' in v.source.decode()


def test_a_description_mistake_or_a_c_option_is_one_line(tmp_path):
    with pytest.raises(UserError, match="-D ROWS: an OpenCL kernel's -D sets a size"):
        programs.load(MATVEC, defines=["ROWS"])
    with pytest.raises(UserError, match="--source, -I, --cflags"):
        programs.load(MATVEC, cflags=["-O3"])
    bare = tmp_path / "bare.cl"
    shutil.copy(MATVEC, bare)
    with pytest.raises(UserError, match="needs a description of its launch beside it"):
        programs.load(bare)


FAST_ONLY_FAILS = b"""
__kernel void scale(__global const float *x, __global float *y) {
#ifdef __FAST_RELAXED_MATH__
  this does not compile;
#endif
  size_t i = get_global_id(0);
  y[i] = 2.0f * x[i];
}
"""
FAST_TOML = """
global = [4096]
[args.x]
buffer = 4096
init = "random"
[args.y]
buffer = 4096
output = true
"""


@needs_clang
def test_variants_are_measured_and_verified_like_c_programs(clhost, tmp_path, monkeypatch):
    """Real runs on the OpenCL device: a coarsened variant verified, one that fails to build a compile error."""
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    k = kernel_at(tmp_path, "scale", FAST_ONLY_FAILS, FAST_TOML)
    space = build_space(k)
    bench = Bench(k, space, Options(max_pairs=stats.MIN_CI_PAIRS, load_check="off"))
    good = bench.measure({"cf": 8, "cf_mode": "block", "wg.cf8": "64"})
    assert good.status == "ok" and good.verified, good.message
    assert good.speedup is not None and good.speedup > 0
    bad = bench.measure({"cl_math": "fast"})
    assert bad.status == "compile_error" and "@autotune error compile" in bad.message


def test_the_device_query_is_read_into_limits():
    text = (
        "platform PoCL\ndevice cpu-x\nvendor AMD\nversion OpenCL 3.0\ndriver 3.1\ntype cpu\n"
        "max_work_group_size 4096\nmax_work_item_dimensions 3\nmax_work_item_sizes 4096 4096 4096\n"
        "local_mem_size 1048576\nglobal_mem_size 100\ncompute_units 2\n"
    )
    d = parse_query(text)
    assert (d.max_work_group_size, d.max_work_item_sizes, d.local_mem_size, d.type) == (
        4096,
        (4096, 4096, 4096),
        1048576,
        "cpu",
    )


@needs_clang
def test_the_command_line_shows_an_opencl_kernels_space_and_measures_one_variant(clhost, tmp_path, monkeypatch, capsys):
    from autotune import cli

    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    assert cli.main(["space", str(MATVEC), "-D", "ROWS=512"]) == 0
    out = capsys.readouterr().out
    assert "cf_mode" in out and "wg.cf32" in out and "L0.unroll" in out and "device:" in out
    code = cli.main(
        ["measure", str(MATVEC), "-D", "ROWS=512", "--set", "cf=2", "--set", "wg.cf2=16", "--load-check", "off"]
        + ["--max-reps", "6", "--no-record"]
    )
    out = " ".join(capsys.readouterr().out.split())  # the report wraps at the terminal's width
    assert code == 0 and "output verified" in out and "region timer" in out
    assert cli.main(["space", str(MATVEC), "-D", "ROWS"]) == cli.EXIT_BAD_INPUT
    assert "an OpenCL kernel's -D sets a size" in capsys.readouterr().err


def test_a_fixed_work_group_offers_no_other_and_no_coarsening(tmp_path):
    toml = SCAN_TOML.replace("local = [64]", "local = [64]\ntune_local = false")
    k = kernel_at(tmp_path, "scan", SCAN, toml)
    space = clspace.build_space(k, SMALL_GPU)
    assert "wg" not in space and "cf" not in space
    assert any("work-group size 64 kept" in n for n in space.notes)
    assert '"local 64\\012"' in clspace.make_variant(k, space, space.default()).source.decode()
    fixed = "tune_local = false\n" + MATVEC.with_suffix(".toml").read_text()
    mv = kernel_at(tmp_path, "matvec", MATVEC.read_bytes(), fixed)
    space = clspace.build_space(mv, SMALL_GPU)
    assert "cf" not in space and any("tune_local = false), and a smaller launch" in n for n in space.notes)
    with pytest.raises(UserError, match="tune_local = false keeps the work-group size given by local"):
        kernel_at(tmp_path, "matvec", MATVEC.read_bytes(), fixed.replace("local = [64]\n", ""))


def test_the_descriptions_tolerance_holds_unless_the_command_line_gives_one(tmp_path):
    toml = MATVEC.with_suffix(".toml").read_text()  # rtol = 1e-5 there
    assert programs.load(MATVEC).rtol == 1e-5
    assert programs.load(MATVEC, rtol=None, atol=None).rtol == 1e-5  # the command line's "not given"
    assert programs.load(MATVEC, rtol=1e-3).rtol == 1e-3
    assert "rtol = 1e-5" in toml


MATVEC_VW = ROOT / "kernels" / "opencl" / "matvec_vw.cl"
SAXPY_VW = b"""
__kernel void saxpy(__global const float *x, __global float *y) {
  size_t i = get_global_id(0) * VW;
  for (int v = 0; v < VW; ++v) y[i + v] += 2.0f * x[i + v];
}
"""
SAXPY_VW_TOML = """
global = ["N / VW"]
local = [16]
sizes = { N = 2048, VW = 1 }
tune = { VW = [1, 4, 32] }
[args.x]
buffer = "N"
init = "random"
[args.y]
buffer = "N"
init = "index"
output = true
"""


def test_a_tuned_size_is_a_knob_and_every_factor_and_group_offered_is_legal_at_each_of_its_values(tmp_path):
    k = kernel_at(tmp_path, "saxpy", SAXPY_VW, SAXPY_VW_TOML)
    space = clspace.build_space(k, SMALL_GPU)
    assert space["VW"].choices == (1, 4, 32) and space["VW"].default == 1
    # the launch is 2048, 512 or 64 work items: a factor must divide 64 and a group 64 / cf
    assert space["cf"].choices == (1, 2, 4, 8, 16, 32)
    assert max(int(s) for s in space["wg.cf2"].choices if s != "auto") == 32
    assert space["wg.cf1"].default == "16"
    rng = random.Random(1)
    for _ in range(60):
        cfg = space.sample(rng)
        v = clspace.make_variant(k, space, cfg)
        assert f"-DVW={cfg['VW']}" in v.device.options
        spec = v.source.decode().split("at_cl_text")[0]
        glob = int(spec.split('"global ')[1].split("\\")[0])
        assert glob * cfg["cf"] * cfg["VW"] == 2048
        local = spec.split('"local ')[1].split("\\")[0]
        assert local == "auto" or glob % int(local) == 0


def test_a_tuned_size_is_checked_when_the_description_is_read(tmp_path):
    with pytest.raises(UserError, match=r"tune.W: not a size; give its default in sizes"):
        kernel_at(tmp_path, "saxpy", SAXPY_VW, SAXPY_VW_TOML.replace("tune = { VW", "tune = { W"))
    with pytest.raises(UserError, match=r"sizes.VW = 2 \(the kernel as given\) must be one of tune.VW"):
        kernel_at(tmp_path, "saxpy", SAXPY_VW, SAXPY_VW_TOML.replace("VW = 1 }", "VW = 2 }"))
    with pytest.raises(UserError, match=r"2048 / 3 is not a whole number"):
        kernel_at(tmp_path, "saxpy", SAXPY_VW, SAXPY_VW_TOML.replace("[1, 4, 32]", "[1, 3]"))
    with pytest.raises(UserError, match=r"local = \[16\] must have one size .* dividing it at VW = 256"):
        kernel_at(tmp_path, "saxpy", SAXPY_VW, SAXPY_VW_TOML.replace("[1, 4, 32]", "[1, 256]"))
    fixed = kernel_at(tmp_path, "saxpy", SAXPY_VW, SAXPY_VW_TOML, defines=["VW=4"])  # -D fixes a tuned size
    assert "VW" not in clspace.build_space(fixed, SMALL_GPU)


@needs_clang
def test_every_vector_width_of_matvec_vw_is_verified_against_the_scalar_kernel(clhost, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    k = programs.load(MATVEC_VW, defines=["ROWS=256"])
    space = build_space(k)
    bench = Bench(k, space, Options(max_pairs=stats.MIN_CI_PAIRS, load_check="off"))
    for vw in space["VW"].choices[1:]:
        m = bench.measure({"VW": vw})
        assert m.status == "ok" and m.verified, (vw, m.message)
