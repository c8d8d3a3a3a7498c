"""The analysis stages declared in ``custlens.pipeline.registry``, one module each."""
