"""Ray as the engine for more than one machine (``pip install
codejury[ray]``).

Problems are spread over a Ray cluster as Ray tasks; each task calls the
Rust engine of the node it lands on (one engine per Ray worker process,
with as many sandbox workers as the task holds CPUs). Ray schedules,
places and retries: a task on a node that dies is run again elsewhere
(``max_retries``), and because verdicts are deterministic and cached by
content the result equals a single-machine run. codejury adds no
scheduler of its own."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence

try:
    import ray as _ray
except ImportError as e:  # pragma: no cover - exercised only without ray
    raise ImportError(
        "codejury.ray needs Ray: pip install 'codejury[ray]' (or pip install ray)"
    ) from e

from . import _api
from ._types import Judgement, Label

#: Settings each task's engine starts with (see :func:`codejury.configure`).
Engine = Mapping[str, Any]


def _configure(engine: Optional[Engine], cpus: float) -> None:
    settings = dict(engine or {})
    settings.setdefault("workers", max(1, int(cpus)))
    _api.configure(**settings)


@_ray.remote
def _judge_task(problem: Dict[str, Any], engine: Optional[Dict[str, Any]], cpus: float) -> Dict[str, Any]:
    _configure(engine, cpus)
    request = dict(problem)
    candidates = request.pop("candidates")
    tests = request.pop("tests")
    limits = request.pop("limits", None) or {}
    j = _api.judge(candidates, tests, **request, **limits)
    return {
        "judgement": j,
        "node": _ray.get_runtime_context().get_node_id(),
    }


@_ray.remote
def _label_task(bench: str, samples: List[Dict[str, str]], data: Optional[str], engine: Optional[Dict[str, Any]], cpus: float) -> List[Label]:
    _configure(engine, cpus)
    return _api.label(bench, samples, data=data)


def judge_many(
    problems: Sequence[Mapping[str, Any]],
    *,
    engine: Optional[Engine] = None,
    num_cpus: float = 1,
    max_retries: int = 3,
    return_nodes: bool = False,
) -> Any:
    """Judges every problem (each the keyword arguments of
    :func:`codejury.judge`: ``candidates``, ``tests``, optionally
    ``entry_point``, ``rules``, ``task_id``, ``limits``) as one Ray task,
    on whatever node Ray places it, and returns the judgements in input
    order. Connects to the cluster Ray is configured for
    (``ray.init()`` first, or ``RAY_ADDRESS``). ``engine``: settings of
    each task's engine (:func:`codejury.configure`); ``num_cpus``: CPUs a
    task holds, which is also its engine's sandbox workers; ``max_retries``:
    times Ray reruns a task whose node or worker died. With
    ``return_nodes``, also the id of the node that produced each result.
    A Ray worker process keeps the engine its first task started, so keep
    one ``engine`` setting per Ray session: a task asking a reused worker
    for different settings fails with ``ConfigError``."""
    for i, p in enumerate(problems):
        missing = [k for k in ("candidates", "tests") if k not in p]
        if missing:
            raise _api._native.ConfigError(f"problems[{i}]: missing field `{missing[0]}`")
    if not _ray.is_initialized():
        _ray.init()
    task = _judge_task.options(num_cpus=num_cpus, max_retries=max_retries)
    refs = [task.remote(dict(p), dict(engine) if engine else None, num_cpus) for p in problems]
    out = _ray.get(refs)
    judgements: List[Judgement] = [o["judgement"] for o in out]
    if return_nodes:
        return judgements, [o["node"] for o in out]
    return judgements


def label_many(
    bench: str,
    samples: Sequence[Mapping[str, str]],
    *,
    data: Optional[str] = None,
    chunk: int = 256,
    engine: Optional[Engine] = None,
    num_cpus: float = 1,
    max_retries: int = 3,
) -> List[Label]:
    """:func:`codejury.label` over a Ray cluster: ``chunk`` samples per
    task, results in input order."""
    if chunk < 1:
        raise _api._native.ConfigError("chunk must be at least 1")
    if not _ray.is_initialized():
        _ray.init()
    task = _label_task.options(num_cpus=num_cpus, max_retries=max_retries)
    rows = [dict(s) for s in samples]
    refs = [
        task.remote(bench, rows[k : k + chunk], data, dict(engine) if engine else None, num_cpus)
        for k in range(0, len(rows), chunk)
    ]
    return [label for part in _ray.get(refs) for label in part]


__all__ = ["judge_many", "label_many"]
