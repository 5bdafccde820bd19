"""What more than one source reader uses: the public OpenCL kernels compiled at every opt level."""

from __future__ import annotations

from encoder.datasets import ModuleRecipe

OPENCL_OPTS = ("O0", "O1", "O2", "O3")


def opencl_recipes(text: str, label: str) -> list[ModuleRecipe]:
    """One recipe per opt level for a data set's OpenCL source (repaired: see encoder.opencl_repair)."""
    return [ModuleRecipe(f"{label} {opt}", "source", text, "opencl", opt, repair=True) for opt in OPENCL_OPTS]
