# Reads a JSON list of Python snippets on stdin; prints a JSON list saying,
# for each, whether it parses as exactly one `assert` statement.
import ast
import json
import sys

out = []
for src in json.load(sys.stdin):
    try:
        body = ast.parse(src).body
        out.append(len(body) == 1 and isinstance(body[0], ast.Assert))
    except (SyntaxError, ValueError):
        out.append(False)
json.dump(out, sys.stdout)
