"""Shipped profiles: exported from the cache, read before measuring, never another CPU's."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from autotune import machine
from autotune.kernel import Kernel
from autotune.measure import profile as prof
from autotune.measure import profile_store
from autotune.space.discover import build_space
from tests.conftest import needs_clang

PROGRAM = r"""
#include <stdio.h>
#include "autotune.h"
#define N 20000
static double a[N];
int main(void) {
  AUTOTUNE_REGION_BEGIN(kernel);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; i++) a[i] = i * 0.25;
  AUTOTUNE_REGION_END(kernel);
  double s = 0;
  for (int i = 0; i < N; i++) s += a[i];
  printf("%.6e\n", s);
  return 0;
}
"""


@needs_clang
def test_an_exported_profile_is_read_on_a_fresh_checkout_and_not_on_another_cpu(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTUNE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "k.c").write_text(PROGRAM)
    k = Kernel.load(tmp_path / "k.c")
    space = build_space(k)
    measured = prof.profile(k, space)
    assert measured is not None
    key = prof.cache_key(k, space)
    cached = tmp_path / "cache" / "profiles" / f"{key}.json"
    cached.write_text(json.dumps(asdict(measured)))  # as the cache keeps it (a busy run is not kept: keep it here)

    shipped = tmp_path / "profiles.json"
    assert profile_store.export(shipped) == (1, 1)
    assert profile_store.export(shipped) == (0, 1)  # merging again adds nothing
    assert json.loads(shipped.read_text()) == {key: asdict(measured)}

    cached.unlink()  # a fresh checkout: no cache, the shipped file only
    monkeypatch.setattr(profile_store, "SHIPPED", shipped)

    def never(*args, **kwargs):
        raise AssertionError("the program was run although its profile is shipped")

    monkeypatch.setattr(prof, "profile_run", never)
    assert prof.profile(k, space) == measured

    other = machine.Machine(**{**machine.current().to_dict(), "cpu_model": "Other"})
    monkeypatch.setattr(machine, "current", lambda: other)
    assert prof.cache_key(k, space) != key
    with pytest.raises(AssertionError, match="was run"):  # another CPU measures its own
        prof.profile(k, space)


def test_no_shipped_file_is_no_profiles(tmp_path):
    assert profile_store.shipped(tmp_path / "absent.json") == {}
