"""synthkit: learn generators from real tables and images, validate what they make, augment training data."""

from synthkit.errors import SynthkitError

__version__ = "0.1.0"
__all__ = ["SynthkitError", "__version__", "validate", "validate_images"]


def __getattr__(name: str):
    # Lazy, so that `import synthkit` does not pull in scikit-learn, SDMetrics or Great Expectations.
    if name == "validate":
        from synthkit.validators.tabular import validate

        return validate
    if name == "validate_images":
        from synthkit.validators.images import validate_images

        return validate_images
    raise AttributeError(f"module 'synthkit' has no attribute {name!r}")
