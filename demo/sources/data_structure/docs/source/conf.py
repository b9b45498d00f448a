project = "demo-algorithms"
extensions = ["sphinx.ext.autodoc"]
