"""The distribution's version: the one place it is written (pyproject.toml reads it here).

A constant rather than importlib.metadata.version(), which costs `import paygentic_client`
more than a third of `import httpx` (zipfile, email, csv and the distribution scan).
"""

VERSION = "0.1.0"
