"""The analysis stages, one module each (declared in ``custlens.pipeline.registry``)."""
