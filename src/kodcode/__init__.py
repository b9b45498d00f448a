"""KodCode workflow: the logic behind the Snakemake rules (pure functions, unit-tested)."""

__version__ = "0.1.0"
