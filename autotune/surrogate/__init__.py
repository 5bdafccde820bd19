"""The transfer-learned runtime surrogate and the guided strategy's scorer.

from autotune.surrogate import Surrogate, make_scorer
"""

from autotune.surrogate.scorer import Surrogate, make_scorer

__all__ = ["Surrogate", "make_scorer"]
