"""Stage functions: each reads its input files, calls the pure logic, writes its outputs.

Every rule's script is one call into this package. Parameters arrive as plain dicts from
the rule's ``params`` (so Snakemake reruns a rule when they change).
"""
