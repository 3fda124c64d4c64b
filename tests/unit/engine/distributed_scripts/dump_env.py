"""A distributed worker that only reports: prints its whole environment as one JSON line,
so tests can check what each member of a gang was given (ranks, ports, TF_CONFIG, ...)."""

import json
import os
import sys

print(json.dumps(dict(os.environ), sort_keys=True), flush=True)
sys.exit(0)
