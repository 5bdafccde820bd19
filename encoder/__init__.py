"""encoder: our MIREncoder (multi-modal LLVM-IR embeddings). Built in a later issue.

It knows nothing of tuning: source or IR in, vectors out. `autotune` imports it,
never the reverse.
"""

__version__ = "0.1.0"
