# Runs one whole program as `python main.py` would, inside a sandboxed test
# process: `__cj_data__` (JSON) holds the program, its stdin, files to
# place in the working directory (base64) and files to fetch back after
# it ends. Its stdout and stderr are captured (up to a cap each; a program
# that prints more keeps running and its output is cut), its exit code
# taken from SystemExit or an uncaught exception, and the outcome left in
# `__cj_output__` as JSON for the harness to report.
import base64 as _cj_base64
import io as _cj_io
import json as _cj_json
import os as _cj_os
import sys as _cj_sys
import traceback as _cj_traceback

_cj_spec = _cj_json.loads(__cj_data__)
_cj_cap = int(_cj_spec["output_cap"])


class _CjCapture(_cj_io.TextIOBase):
    """A text stream that keeps the first `cap` characters written."""

    def __init__(self, cap):
        self.parts = []
        self.kept = 0
        self.cap = cap
        self.cut = False

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        room = self.cap - self.kept
        if len(s) > room:
            self.cut = True
            s = s[: max(room, 0)]
        if s:
            self.parts.append(s)
            self.kept += len(s)
        return len(s)

    def text(self):
        return "".join(self.parts)


for _cj_path, _cj_b64 in (_cj_spec.get("files") or {}).items():
    _cj_dir = _cj_os.path.dirname(_cj_path)
    if _cj_dir:
        _cj_os.makedirs(_cj_dir, exist_ok=True)
    with open(_cj_path, "wb") as _cj_f:
        _cj_f.write(_cj_base64.b64decode(_cj_b64 or ""))

_cj_out = _CjCapture(_cj_cap)
_cj_err = _CjCapture(_cj_cap)
_cj_saved = (_cj_sys.stdin, _cj_sys.stdout, _cj_sys.stderr, _cj_sys.argv)
_cj_sys.stdin = _cj_io.StringIO(_cj_spec.get("stdin") or "")
_cj_sys.stdout = _cj_out
_cj_sys.stderr = _cj_err
_cj_sys.argv = ["main.py"]
_cj_code = 0
try:
    _cj_program = compile(_cj_spec["code"], "main.py", "exec")
    exec(_cj_program, {"__name__": "__main__", "__builtins__": __builtins__})
except SystemExit as _cj_exit:
    _cj_c = _cj_exit.code
    if _cj_c is None:
        _cj_code = 0
    elif isinstance(_cj_c, int):
        _cj_code = _cj_c
    else:
        _cj_err.write(str(_cj_c) + "\n")
        _cj_code = 1
except BaseException as _cj_exc:
    # As the interpreter prints it, without this wrapper's own frame.
    _cj_tb = _cj_exc.__traceback__
    if _cj_tb is not None and _cj_tb.tb_next is not None:
        _cj_tb = _cj_tb.tb_next
    _cj_err.write("".join(_cj_traceback.format_exception(type(_cj_exc), _cj_exc, _cj_tb)))
    _cj_code = 1
finally:
    _cj_sys.stdin, _cj_sys.stdout, _cj_sys.stderr, _cj_sys.argv = _cj_saved

_cj_fetched = {}
for _cj_path in _cj_spec.get("fetch_files") or []:
    try:
        with open(_cj_path, "rb") as _cj_f:
            _cj_fetched[_cj_path] = _cj_base64.b64encode(_cj_f.read()).decode()
    except OSError:
        pass

__cj_output__ = _cj_json.dumps({
    "stdout": _cj_out.text(),
    "stderr": _cj_err.text(),
    "return_code": _cj_code,
    "truncated": _cj_out.cut or _cj_err.cut,
    "files": _cj_fetched,
})
