"""Shipped only as a wheel: pip runs no build at all."""
VERSION = "1.0"
