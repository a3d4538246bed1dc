"""synthkit: learn generators from real tables and images, validate what they make, augment training data."""

from synthkit.errors import SynthkitError

__version__ = "0.1.0"
__all__ = ["SynthkitError", "__version__"]
