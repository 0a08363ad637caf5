"""Examples that ship with the suite (importable from the repository root)."""
