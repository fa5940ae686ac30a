"""The check engine: data checks evaluated against sources, each yielding results."""
