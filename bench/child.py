"""The measuring half of a benchmark, in a process of its own: `python -m bench.child MODULE:FUNCTION ARG…`.

Django is set up from the environment the parent chose (a data set's or a scratch site's databases and
settings), then FUNCTION(ARG…) runs and its result is printed as one line of JSON for the parent
(`bench.harness.run_child`).
"""

import importlib
import json
import sys

import django

if __name__ == "__main__":
    django.setup()
    module, _, function = sys.argv[1].partition(":")
    print(json.dumps(getattr(importlib.import_module(module), function)(*sys.argv[2:])))
