"""Neural Playground: build, train, look inside and export neural networks."""

__version__ = "0.1.0"
