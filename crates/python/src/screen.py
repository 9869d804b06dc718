# codejury's screen of test pieces with Python's own parser.
#
# Reads {"mode": "assert" | "unit", "snippets": [...]} as JSON on stdin and
# writes one answer per snippet as a JSON list: "ok", "malformed" or
# "too-complex".  "assert" mode keeps a snippet iff it parses as exactly one
# `assert` statement (CodeT's rule); "unit" mode keeps anything the parser
# can take apart (a test that does not compile is still a test: it fails
# every candidate).  A snippet too deep or too large for the parser raises
# RecursionError or MemoryError here; it is answered, never fatal.
import ast
import json
import sys


def answer(mode, src):
    try:
        body = ast.parse(src).body
    except (RecursionError, MemoryError, OverflowError):
        return "too-complex"
    except (SyntaxError, ValueError):
        return "malformed" if mode == "assert" else "ok"
    except BaseException:
        return "too-complex"
    if mode == "assert":
        return "ok" if len(body) == 1 and isinstance(body[0], ast.Assert) else "malformed"
    return "ok"


request = json.load(sys.stdin)
out = [answer(request["mode"], s) for s in request["snippets"]]
json.dump(out, sys.stdout)
