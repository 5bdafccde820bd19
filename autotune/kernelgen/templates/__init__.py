"""Template families: one module per family, each defining one or more templates (see `registry`)."""
