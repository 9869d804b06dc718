# Turns a task's inputs into single-assert tests, with the expected output of
# the canonical solution (the candidate here) written as a literal.
import copy as _copy
import json as _json

_spec = _json.loads(__cj_data__)
_entry = _spec["entry_point"]
_fn = globals()[_entry]
_rows = []
for _args in _json.loads(_spec["inputs"]):
    _out = _fn(*_copy.deepcopy(_args))
    try:
        _ok = eval(repr(_out)) == _out and eval(repr(_args)) == _args
    except Exception:
        _ok = False
    if _ok:
        _rows.append("assert %s(*%r) == %r" % (_entry, _args, _out))
__cj_output__ = _json.dumps(_rows)
