"""Constants shared by the server, its command line and its documentation."""

from __future__ import annotations

# The token used when no --token is given. It is public on purpose: the sandbox holds no
# real money and this lets a new user call it without any set-up.
DEMO_TOKEN = "sandbox_demo_token"
DEMO_MERCHANT_ID = "org_demo"

# 10 MiB: a 1000-event batch with 100 properties per event and long ids still fits.
MAX_BODY_BYTES = 10 * 1024 * 1024

# Where the database lives when --db is not given (relative to the working directory).
DEFAULT_DB_PATH = ".sandbox/sandbox.db"

READY_LINE_PREFIX = "paygentic-sandbox listening on "
