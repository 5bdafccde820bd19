from autotune.measure.verify import compare, last_digit_unit


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


def test_last_digit_unit():
    assert last_digit_unit("12.34") == 0.01 and last_digit_unit("-0.5") == 0.1
    assert last_digit_unit("1.25e+03") == 10.0 and last_digit_unit("7") is None


def test_one_rounding_flip_in_a_dump_is_forgiven():
    ref = " ".join(f"{v:.2f}" for v in range(100, 300))  # 200 numbers, 2 decimals, as PolyBench dumps them
    out = ref.replace("150.00", "150.01").replace("250.00", "249.99")
    v = compare(ref, out)
    assert v.ok and "2 of 200 numbers differ by one unit" in v.message


def test_rounding_flips_are_forgiven_only_in_a_few_numbers():
    ref = " ".join(f"{v:.2f}" for v in range(100, 300))
    out = " ".join(f"{v + 0.01:.2f}" for v in range(100, 300))  # a systematic error of one unit
    v = compare(ref, out)
    assert not v.ok and "at most 2 forgiven" in v.message


def test_no_flip_for_integers_or_two_units():
    assert not compare("count 41", "count 42").ok  # a printed integer is exact
    assert not compare("x 12.34", "x 12.36").ok  # two units is no rounding flip
    assert not compare("x 12.34", "x 12.35").ok  # a checksum or two: no leniency, it may be a real error
    assert compare("x 12.34", "x 12.35", rtol=1e-3).ok
