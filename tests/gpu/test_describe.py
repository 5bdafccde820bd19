"""The description beside an OpenCL kernel: what it may say, and one clear line for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotune.errors import UserError
from autotune.gpu import describe

CL = b"""
__kernel void saxpy(__global const float4 *x, __global float *y, const float a, const unsigned int n,
                    __local float *scratch) {
  size_t i = get_global_id(0);
  if (i < n) y[i] = a * x[i / 4].x + y[i];
}
"""

TOML = """
global = ["N"]
sizes = { N = 4096, M = 8 }
repeat = 3
rtol = 1e-5
[args.x]
buffer = "N / 4"
init = "random"
range = [-1, 1]
seed = 7
[args.y]
buffer = "N"
init = "arange"
step = 2
output = true
[args.a]
value = 2.5
[args.n]
value = "N"
[args.scratch]
local = "4 * wg"
"""


def write(tmp_path: Path, toml: str, cl: bytes = CL) -> tuple[Path, bytes]:
    path = tmp_path / "saxpy.cl"
    path.write_bytes(cl)
    (tmp_path / "saxpy.toml").write_text(toml)
    return path, cl


def test_a_description_is_read_with_types_from_the_kernel_signature(tmp_path):
    d = describe.load(*write(tmp_path, TOML))
    assert d.kernel == "saxpy" and d.global_dims() == (4096,) and d.repeat == 3 and d.rtol == 1e-5
    by = {a.name: a for a in d.args}
    assert [a.name for a in d.args] == ["x", "y", "a", "n", "scratch"]  # the signature's order
    assert (by["x"].ctype, by["x"].width, d.size(by["x"].amount)) == ("float", 4, 1024)
    assert by["x"].init == "random" and by["x"].init_args == (7.0, -1.0, 1.0)
    assert by["y"].output and by["y"].init_args == (0.0, 2.0) and not by["x"].output
    assert (by["n"].kind, by["n"].ctype, d.size(by["n"].amount)) == ("scalar", "uint", 4096)
    assert (by["scratch"].kind, d.size(by["scratch"].amount, wg=64)) == ("local", 256)
    assert d.defines() == ["-DN=4096", "-DM=8"]
    over = describe.load(tmp_path / "saxpy.cl", CL, overrides={"N": 1024})
    assert over.global_dims() == (1024,)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('global = ["N"]', 'global = ["N", 1, 1, 1]'), "global = [...] must list 1 to 3"),
        (lambda t: t.replace("[args.a]\nvalue = 2.5\n", ""), "[args.a] is missing"),
        (lambda t: t + "[args.zz]\nvalue = 1\n", "[args.zz]: saxpy has no parameter of that name"),
        (lambda t: t.replace("output = true\n", ""), "no argument has output = true"),
        (lambda t: t.replace('init = "arange"', 'init = "ramp"'), "init = 'ramp'; one of zeros"),
        (lambda t: t.replace('buffer = "N / 4"', 'buffer = "N / 3"'), "4096 / 3 is not a whole number"),
        (lambda t: t.replace('buffer = "N / 4"', 'buffer = "K"'), "unknown size 'K'"),
        (lambda t: t.replace('buffer = "N / 4"', 'buffer = "__import__(1)"'), "sizes are integers"),
        (lambda t: t.replace("repeat = 3", "repeat = 0"), "repeat = 0; a positive integer"),
        (lambda t: t + "kernel = 'other'\n", "[args.scratch]: unknown key 'kernel'"),  # TOML: it joined the table
        (lambda t: "colour = 1\n" + t, "unknown key 'colour'; a description takes args, atol"),
        (lambda t: "global = [\n", "not valid TOML"),
    ],
)
def test_each_mistake_is_one_line_naming_the_description(tmp_path, change, message):
    path, cl = write(tmp_path, change(TOML))
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]")) as err:
        describe.load(path, cl)
    assert str(err.value).startswith(str(tmp_path / "saxpy.toml")) and "\n" not in str(err.value)


def test_a_missing_description_or_kernel_says_what_to_write(tmp_path):
    path = tmp_path / "k.cl"
    path.write_bytes(CL)
    with pytest.raises(UserError, match="needs a description of its launch beside it \\(k.toml"):
        describe.load(path, CL)
    two = CL + b"__kernel void other(__global int *a) { a[0] = 1; }\n"
    path, cl = write(tmp_path, TOML, two)
    with pytest.raises(UserError, match='has 2 kernels; say which with kernel = "..."'):
        describe.load(path, cl)
    path, cl = write(tmp_path, 'kernel = "nope"\n' + TOML, two)
    with pytest.raises(UserError, match="kernel = 'nope': saxpy.cl has saxpy, other"):
        describe.load(path, cl)
