"""Tools for auditing advref itself: gradient checks and speed measurements."""
