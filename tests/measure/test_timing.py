from autotune.measure.runner import RunResult
from autotune.measure.timing import extract


def result(out: bytes, err: bytes, wall: float = 2.0) -> RunResult:
    return RunResult(0, out, err, wall, False)


def test_region_lines_are_summed_and_stripped():
    r = result(b"checksum 1.5\n", b"@autotune region a 0.25\nwarn\n@autotune region b 0.5\n")
    t = extract(r, "region")
    assert t.source == "region" and t.seconds == 0.75 and t.output == "checksum 1.5\n"


def test_falls_back_to_wall_time():
    t = extract(result(b"x 1\n", b""), "region")
    assert t.source == "wall" and t.seconds == 2.0


def test_polybench_time_line_and_dump():
    r = result(b"0.012345\n", b"==BEGIN DUMP_ARRAYS==\n1.00 2.00\n==END   DUMP_ARRAYS==\n")
    t = extract(r, "polybench")
    assert t.source == "polybench" and t.seconds == 0.012345
    assert "0.012345" not in t.output and "1.00 2.00" in t.output


def test_falls_back_to_wall_time_and_says_so():
    t = extract(result(b"x 1\n", b""), "region")
    assert t.source == "wall" and t.fallback and "region timer" in t.missing_timer("region")
    t = extract(result(b"x 1\n", b""), "polybench")
    assert t.source == "wall" and t.fallback


def test_wall_timed_programs_are_no_fallback():
    t = extract(result(b"x 1\n", b""), "wall")
    assert t.source == "wall" and not t.fallback and t.missing_timer("wall") == ""
    t = extract(result(b"x 1\n", b"@autotune region a 0.25\n"), "region")
    assert t.source == "region" and not t.fallback
