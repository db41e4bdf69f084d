"""arcttt: test-time training solver for ARC-AGI."""
__version__ = "0.1.0"
