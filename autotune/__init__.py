"""autotune: make HPC kernels faster by compiling and timing their variants for real.

Public API (typed, stable):

    from autotune import Kernel, build_space, Bench, measure
    from autotune import tune, Result          # the tuner (autotune.search), imported on first use
"""

from autotune.errors import UserError
from autotune.kernel import Kernel
from autotune.measure import Bench, Measurement, Options, measure
from autotune.space import Config, InvalidConfig, Knob, Space
from autotune.space.discover import build_space
from autotune.variant import Variant, make_variant

__version__ = "0.1.0"
__all__ = [
    "Bench",
    "Config",
    "InvalidConfig",
    "Kernel",
    "Knob",
    "Measurement",
    "Options",
    "Space",
    "UserError",
    "Variant",
    "build_space",
    "make_variant",
    "measure",
    "tune",
    "Result",
]


def __getattr__(name: str):
    """`tune` and `Result` load Optuna and pandas; import them only when asked for."""
    if name in ("tune", "Result"):
        from autotune.search import api

        return getattr(api, name)
    raise AttributeError(f"module 'autotune' has no attribute {name!r}")
