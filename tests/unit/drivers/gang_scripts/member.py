"""A gang member for the supervisor's tests: what it does depends on its name.

    member.py NAME=ACTIONS ... [*=ACTIONS]

ACTIONS is a comma-separated list, run in order, for the member whose CUBE_WORKER is NAME
(``*``: any other member):
  env           print the environment as one JSON line
  say:TEXT      print TEXT and a newline
  partial:TEXT  print TEXT without a newline
  bytes:HEX     print these bytes (any, even not UTF-8) and a newline
  show:VAR      print the text of the file named by $VAR
  touch:PATH    create PATH;  wait:PATH  wait until PATH exists
  ignore-term   ignore SIGTERM from now on
  term-cleanup  on SIGTERM: print "cleaning up", take 0.3 s, print "cleaned up", exit 0
  sleep         sleep 60 s (the test stops it long before)
  exit:N        exit with code N
"""

import json
import os
import signal
import sys
import time
from pathlib import Path


def clean_up(signum: int, frame: object) -> None:
    print("cleaning up", flush=True)
    time.sleep(0.3)
    print("cleaned up", flush=True)
    sys.exit(0)


def run(action: str) -> None:
    verb, _, arg = action.partition(":")
    out = sys.stdout.buffer
    if verb == "env":
        out.write(json.dumps(dict(os.environ), sort_keys=True).encode() + b"\n")
    elif verb == "say":
        out.write(arg.encode() + b"\n")
    elif verb == "partial":
        out.write(arg.encode())
    elif verb == "bytes":
        out.write(bytes.fromhex(arg) + b"\n")
    elif verb == "show":
        out.write(Path(os.environ[arg]).read_bytes())
    elif verb == "touch":
        Path(arg).touch()
    elif verb == "wait":
        while not Path(arg).exists():
            time.sleep(0.01)
    elif verb == "ignore-term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    elif verb == "term-cleanup":
        signal.signal(signal.SIGTERM, clean_up)
    elif verb == "sleep":
        time.sleep(60)
    elif verb == "exit":
        out.flush()
        sys.exit(int(arg))
    else:
        raise SystemExit(f"unknown action {action!r}")
    out.flush()


def main() -> None:
    plans = dict(arg.split("=", 1) for arg in sys.argv[1:])
    actions = plans.get(os.environ["CUBE_WORKER"], plans.get("*", ""))
    for action in filter(None, actions.split(",")):
        run(action)


main()
