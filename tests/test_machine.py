"""The machine a record names: two CPUs sold under one bare model name must not read as one."""

from autotune import machine

ZEN = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: {family}
model\t\t: {model}
model name\t: AMD EPYC
stepping\t: 1

processor\t: 1
cpu family\t: 99
model name\t: Another
"""


def test_a_bare_model_name_is_told_apart_by_family_model_and_stepping():
    zen5 = machine._cpu_model(ZEN.format(family=26, model=2))
    zen4 = machine._cpu_model(ZEN.format(family=25, model=17))
    assert zen5 == "AMD EPYC (family 26, model 2, stepping 1)"
    assert zen4 != zen5 and zen4.startswith("AMD EPYC (family 25")


def test_without_the_numbers_the_model_name_alone():
    assert machine._cpu_model("model name\t: Some CPU\n") == "Some CPU"


def test_this_machine_has_a_name():
    assert machine.current().cpu_model.strip()
