from autotune.measure.verify import compare


def test_equal_and_within_tolerance():
    assert compare("sum 1.000000000e+00\n", "sum 1.000000000e+00\n").ok
    assert compare("sum 1.0000000\n", "sum 1.0000001\n", rtol=1e-6).ok
    assert compare("a  1\n\n", "a 1").ok  # whitespace runs do not matter


def test_number_outside_tolerance_names_the_number():
    v = compare("x 1.0 y 2.0", "x 1.0 y 2.1")
    assert not v.ok and "number 1" in v.message and "expected 2.0, got 2.1" in v.message


def test_text_must_match_exactly():
    assert not compare("gemm checksum 1.0", "gemx checksum 1.0").ok
    assert not compare("1 2 3", "1 2").ok
    assert not compare("result 1", "").ok


def test_nan_and_inf():
    assert compare("nan inf", "nan inf").ok
    assert not compare("1.0", "nan").ok
    assert not compare("inf", "-inf").ok


def test_atol_for_values_near_zero():
    assert not compare("0.0", "1e-12").ok
    assert compare("0.0", "1e-12", atol=1e-9).ok
