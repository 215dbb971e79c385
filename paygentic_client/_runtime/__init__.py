"""The private runtime that the generated code calls: retries, responses, pagination, logging,
JSON bodies, timestamps. Not a public API: import from `paygentic_client` and its public
submodules instead."""
