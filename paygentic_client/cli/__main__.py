"""python -m paygentic_client.cli: the same as the paygentic-usage command."""

import sys

from .main import main

sys.exit(main())
