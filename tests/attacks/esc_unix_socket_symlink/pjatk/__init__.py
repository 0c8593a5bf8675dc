"""An innocent-looking helper library."""
VERSION = "1.0"
