"""attnlab: a reproducible workflow for studying attention blocks in small CNNs.

Importing the package is cheap: TensorFlow is imported only by the modules
that build or run models (`attnlab.layers`, `attnlab.models`, `attnlab.attention`).
"""

__version__ = "0.1.0"
