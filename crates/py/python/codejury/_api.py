"""codejury's Python API: the sandbox, the vote and ground truth.

Every call runs in the Rust engine with the GIL released (other Python
threads run meanwhile, and threads calling at once share the engine's
workers); Ctrl-C stops a call after the pairs in flight and raises
``KeyboardInterrupt``; errors are :class:`CodejuryError` subclasses with a
``hint`` attribute."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from . import _native
from ._types import (
    Choice,
    Isolation,
    Judgement,
    Label,
    Limits,
    Matrix,
    ProgramResult,
)

#: A test: its code, or ``{"code": ..., "format": "unittest"|"assert"|"check"}``.
Test = Union[str, Mapping[str, str]]


def configure(
    *,
    workers: Optional[int] = None,
    mode: str = "faithful",
    python: Optional[Union[str, os.PathLike]] = None,
    store: Optional[Union[str, os.PathLike]] = None,
) -> None:
    """Sets up the engine before its first use.

    ``workers``: pairs run at once (default: one per core); ``mode``:
    ``faithful`` (a fresh process per pair, as the paper's harness) or
    ``fast`` (one process per candidate runs its tests in turn);
    ``python``: the interpreter candidates run in (default:
    ``$CODEJURY_PYTHON``, else ``python3``); ``store``: the SQLite run store
    that caches verdicts by content (default:
    ``$CODEJURY_CACHE_DIR/store.sqlite``). After the engine has started,
    only a call that changes nothing is accepted."""
    engine: Dict[str, Any] = {"mode": mode}
    if workers is not None:
        engine["workers"] = workers
    if python is not None:
        engine["python"] = os.fspath(python)
    settings: Dict[str, Any] = {"engine": engine}
    if store is not None:
        settings["store"] = os.fspath(store)
    _native.configure(json.dumps(settings))


def isolation() -> Isolation:
    """The isolation layers in force (starts the engine if needed)."""
    return Isolation.from_json(json.loads(_native.isolation()))


def _limits(limits: Optional[Limits], kw: Dict[str, Any]) -> Dict[str, Any]:
    if limits is not None and kw:
        raise _native.ConfigError(
            f"pass either limits= or {', '.join(sorted(kw))}, not both"
        )
    return (limits or Limits(**kw)).to_json()


def _tests(tests: Sequence[Test]) -> List[Any]:
    out: List[Any] = []
    for j, t in enumerate(tests):
        if isinstance(t, str):
            out.append(t)
        elif isinstance(t, Mapping):
            out.append(dict(t))
        else:
            raise _native.ConfigError(
                f"tests[{j}]: expected a str or a mapping with `code`, got {type(t).__name__}"
            )
    return out


def _strings(what: str, items: Sequence[str]) -> List[str]:
    if isinstance(items, str):
        raise _native.ConfigError(f"{what}: expected a list of programs, got one str")
    out = list(items)
    for i, s in enumerate(out):
        if not isinstance(s, str):
            raise _native.ConfigError(f"{what}[{i}]: expected str, got {type(s).__name__}")
    return out


def judge(
    candidates: Sequence[str],
    tests: Sequence[Test],
    *,
    entry_point: Optional[str] = None,
    rules: Optional[Sequence[str]] = None,
    task_id: Optional[str] = None,
    limits: Optional[Limits] = None,
    **limit_fields: Any,
) -> Judgement:
    """Runs every candidate against every test and votes.

    ``candidates`` are whole programs; ``tests`` are ``unittest`` classes,
    ``assert`` lines or ``check(candidate)`` functions (detected, or named
    by ``{"code", "format"}``); ``entry_point`` names the function
    ``check`` tests call; ``rules`` picks the selection rules (default:
    every rule); limits as :class:`Limits` or its fields as keywords
    (``timeout_ms=1000, memory_mb=1024, ...``). Pairs judged before are
    answered by the run store."""
    request: Dict[str, Any] = {
        "candidates": _strings("candidates", candidates),
        "tests": _tests(tests),
        "limits": _limits(limits, limit_fields),
    }
    if entry_point is not None:
        request["entry_point"] = entry_point
    if task_id is not None:
        request["task_id"] = task_id
    if rules is not None:
        request["rules"] = [rules] if isinstance(rules, str) else list(rules)
    return Judgement.from_json(json.loads(_native.judge(json.dumps(request))))


def execute(
    candidates: Sequence[str],
    tests: Sequence[Test],
    *,
    entry_point: Optional[str] = None,
    task_id: Optional[str] = None,
    limits: Optional[Limits] = None,
    **limit_fields: Any,
) -> Matrix:
    """The verdict matrix alone: :func:`judge` without a vote."""
    j = judge(
        candidates,
        tests,
        entry_point=entry_point,
        rules=[],
        task_id=task_id,
        limits=limits,
        **limit_fields,
    )
    return Matrix(
        verdicts=j.verdicts,
        passed=j.passed,
        pairs=j.pairs,
        executed=j.executed,
        cached=j.cached,
        isolation=j.isolation,
    )


def select(matrix: Union[Matrix, Sequence[Sequence[bool]]], rule: str = "coderm") -> Choice:
    """Votes on a pass matrix with one rule (``coderm``, ``codet``,
    ``codet-paper``, ``mbr``, ``passcount``, ``random``), exactly as
    :func:`judge` and the command line do. No sandbox runs: bring a matrix
    from anywhere. Rows and columns are taken as distinct programs and
    tests."""
    rows = matrix.pass_matrix if isinstance(matrix, Matrix) else [
        [bool(x) for x in row] for row in matrix
    ]
    d = json.loads(_native.select(rows, rule))
    return Choice(chosen=d["chosen"], tied=tuple(d["tied"]))


def label(
    bench: str,
    samples: Iterable[Mapping[str, str]],
    *,
    data: Optional[Union[str, os.PathLike]] = None,
) -> List[Label]:
    """Grades samples against a benchmark's ground truth: ``humaneval``,
    ``humaneval-plus`` or ``mbpp-plus``, read from ``data`` if given, else
    ``$CODEJURY_DATA_DIR``, else fetched and checksum-verified once. A
    sample is ``{"task_id", "completion"}`` (the prompt continued),
    ``{"task_id", "solution"}`` (a whole program) or ``{"task_id",
    "response"}`` (a model's answer, its program extracted as ``run``
    does; one with no program is labelled ``error``)."""
    rows = [dict(s) for s in samples]
    out = json.loads(
        _native.label(bench, json.dumps(rows), os.fspath(data) if data is not None else None)
    )
    return [Label(**r) for r in out]


def run_code(
    code: str,
    *,
    stdin: Optional[str] = None,
    files: Optional[Mapping[str, str]] = None,
    fetch_files: Sequence[str] = (),
    limits: Optional[Limits] = None,
    **limit_fields: Any,
) -> ProgramResult:
    """Runs one whole Python program with its stdin and files (relative
    path to base64 content) under the sandbox's walls and limits, and
    brings back ``fetch_files``. Not cached: a program may read the clock."""
    request = {
        "code": code,
        "stdin": stdin,
        "files": dict(files or {}),
        "fetch_files": list(fetch_files),
        "limits": _limits(limits, limit_fields),
    }
    return ProgramResult(**json.loads(_native.run_code(json.dumps(request))))


def extract(text: str, entry_point: str = ""):
    """The program in a model's response (its fenced code block):
    ``(code, None)``, or ``(None, reason)`` when there is none."""
    return _native.extract(text, entry_point)
