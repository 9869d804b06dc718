"""Rewards for RL loops, with the exact signatures verl, OpenRLHF and TRL
call: :func:`compute_score` (verl's batch reward), :func:`reward_func`
(OpenRLHF's ``--remote_rm_url`` file), :func:`trl_reward` and
:func:`trl_reward_async` (TRL's ``reward_funcs``).

A ground truth is a mapping, or its JSON text, of one of three shapes:

- ``{"bench": "humaneval", "task_id": "HumanEval/0"}``: the benchmark's
  own ground truth (``humaneval``, ``humaneval-plus``, ``mbpp-plus``);
- ``{"tests": [...], "entry_point": "f"}``: unit tests (``assert`` lines,
  ``unittest`` classes or ``check`` functions);
- ``{"inputs": [...], "outputs": [...]}``: stdin/stdout cases (verl's and
  PRIME's format); stdout is compared with surrounding whitespace
  stripped.

The reward is 1.0 when the program passes everything, else 0.0. A
response with no code block, a wrong answer, a crash or a time-out is the
model's fault and scores 0.0. A pair the sandbox failed to judge is not:
it raises :class:`codejury.SandboxError` rather than passing for a silent
zero, so a broken sandbox stops training instead of poisoning it."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _api
from ._native import ConfigError, SandboxError

#: Rewards of one batch computed at once (each call releases the GIL;
#: the engine caps how many pairs really run in parallel).
MAX_PARALLEL = 32

GroundTruth = Union[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Reward:
    """One response's reward and why."""

    #: 1.0 if the program passed every check, else 0.0.
    score: float
    #: Checks passed and checks run.
    passed: int
    total: int
    #: Why it did not pass (``""`` for a pass).
    reason: str

    def as_verl(self) -> Dict[str, float]:
        """verl's dict form: ``score`` plus numbers its loggers average."""
        return {
            "score": self.score,
            "pass_rate": self.passed / self.total if self.total else 0.0,
        }


def _parse(i: int, ground_truth: GroundTruth) -> Dict[str, Any]:
    if isinstance(ground_truth, str):
        try:
            ground_truth = json.loads(ground_truth)
        except json.JSONDecodeError as e:
            raise ConfigError(f"ground_truths[{i}]: not JSON: {e}") from None
    if not isinstance(ground_truth, Mapping):
        raise ConfigError(
            f"ground_truths[{i}]: expected a mapping or its JSON, got {type(ground_truth).__name__}"
        )
    return dict(ground_truth)


def _program(response: str, entry_point: str) -> "tuple[Optional[str], str]":
    code, reason = _api.extract(response, entry_point)
    return code, reason or ""


def _sandbox_check(i: int, verdicts: Sequence[str], messages: Sequence[str] = ()) -> None:
    if "sandbox-error" in verdicts:
        raise SandboxError(
            f"response {i}: the sandbox failed to judge it ({'; '.join(m for m in messages if m) or 'sandbox-error'}); "
            "not scored as 0"
        )


def score(response: str, ground_truth: GroundTruth, *, index: int = 0) -> Reward:
    """The reward of one model response (its fenced code block is the
    program) against one ground truth."""
    gt = _parse(index, ground_truth)
    if "bench" in gt or "task_id" in gt:
        missing = [k for k in ("bench", "task_id") if k not in gt]
        if missing:
            raise ConfigError(f"ground_truths[{index}]: missing field `{missing[0]}`")
        (lab,) = _api.label(gt["bench"], [{"task_id": gt["task_id"], "response": response}])
        _sandbox_check(index, [lab.verdict], [lab.message])
        return Reward(1.0 if lab.passed else 0.0, int(lab.passed), 1, lab.message)
    if "tests" in gt:
        tests = gt["tests"]
        if isinstance(tests, str):
            tests = [tests]
        entry_point = gt.get("entry_point")
        code, reason = _program(response, entry_point or "")
        if code is None:
            return Reward(0.0, 0, len(tests), reason)
        m = _api.execute([code], tests, entry_point=entry_point, **gt.get("limits", {}))
        row = m.verdicts[0]
        _sandbox_check(index, row)
        passed = sum(v == "pass" for v in row)
        failed = next((v for v in row if v != "pass"), "")
        return Reward(1.0 if passed == len(row) else 0.0, passed, len(row), failed)
    if "inputs" in gt:
        if gt.get("fn_name"):
            raise ConfigError(
                f"ground_truths[{index}]: call-based cases (`fn_name`) are not supported; "
                "give the calls as `tests`"
            )
        inputs, outputs = gt["inputs"], gt.get("outputs")
        if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
            raise ConfigError(
                f"ground_truths[{index}]: `inputs` and `outputs` must be lists of equal length"
            )
        code, reason = _program(response, "")
        if code is None:
            return Reward(0.0, 0, len(inputs), reason)
        passed, why = 0, ""
        for k, (stdin, expected) in enumerate(zip(inputs, outputs)):
            r = _api.run_code(code, stdin=str(stdin), **gt.get("limits", {}))
            _sandbox_check(index, [r.verdict], [r.message])
            if r.verdict != "pass":
                why = why or f"case {k}: {r.verdict}"
                break
            if r.return_code != 0:
                why = why or f"case {k}: exit code {r.return_code}"
                break
            if r.stdout.strip() != str(expected).strip():
                why = why or f"case {k}: wrong output"
                break
            passed += 1
        return Reward(1.0 if passed == len(inputs) else 0.0, passed, len(inputs), why)
    raise ConfigError(
        f"ground_truths[{index}]: expected `bench`+`task_id`, `tests`, or `inputs`+`outputs`; "
        f"got keys {sorted(gt)}"
    )


def score_batch(responses: Sequence[str], ground_truths: Sequence[GroundTruth]) -> List[Reward]:
    """Rewards of a batch, computed in parallel threads (in order)."""
    if len(responses) != len(ground_truths):
        raise ConfigError(
            f"{len(responses)} responses but {len(ground_truths)} ground truths"
        )
    if not responses:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(responses))) as pool:
        futures = [
            pool.submit(score, r, g, index=i)
            for i, (r, g) in enumerate(zip(responses, ground_truths))
        ]
        return [f.result() for f in futures]


def compute_score(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[GroundTruth],
    extra_infos: Optional[Sequence[Any]] = None,
    **_: Any,
) -> List[Dict[str, float]]:
    """verl's batch reward (``custom_reward_function.name=compute_score``
    with ``reward_model.reward_manager=batch``): one dict per response
    with ``score`` (1.0 or 0.0) and ``pass_rate``."""
    if len(data_sources) != len(solution_strs):
        raise ConfigError(
            f"{len(data_sources)} data sources but {len(solution_strs)} solutions"
        )
    return [r.as_verl() for r in score_batch(solution_strs, ground_truths)]


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[GroundTruth]) -> Dict[str, Any]:
    """OpenRLHF's reward function: each query is its prompt followed by
    the response; ``labels`` are the ground truths. Returns ``rewards``,
    ``scores`` (torch tensors when torch is installed, else lists) and
    ``extra_logs`` (``pass_rate``)."""
    if not (len(queries) == len(prompts) == len(labels)):
        raise ConfigError(
            f"{len(queries)} queries, {len(prompts)} prompts and {len(labels)} labels"
        )
    responses = [q[len(p):] if q.startswith(p) else q for q, p in zip(queries, prompts)]
    rewards = score_batch(responses, labels)
    scores = [r.score for r in rewards]
    rates = [r.passed / r.total if r.total else 0.0 for r in rewards]
    try:
        import torch

        return {
            "rewards": torch.tensor(scores, dtype=torch.float32),
            "scores": torch.tensor(scores, dtype=torch.float32),
            "extra_logs": {"pass_rate": torch.tensor(rates, dtype=torch.float32)},
        }
    except ImportError:
        return {"rewards": scores, "scores": scores, "extra_logs": {"pass_rate": rates}}


def _completion_text(c: Any, i: int) -> str:
    if isinstance(c, str):
        return c
    if isinstance(c, Sequence) and c and isinstance(c[-1], Mapping) and "content" in c[-1]:
        return str(c[-1]["content"])
    raise ConfigError(
        f"completions[{i}]: expected text or a list of chat messages, got {type(c).__name__}"
    )


def trl_reward(completions: Sequence[Any], ground_truth: Optional[Sequence[GroundTruth]] = None, **kwargs: Any) -> List[float]:
    """TRL's reward function (``GRPOTrainer(reward_funcs=[trl_reward])``):
    completions as text or chat messages; the ground truths come from the
    dataset's ``ground_truth`` column, which TRL passes as a keyword."""
    if ground_truth is None:
        raise ConfigError(
            "trl_reward needs the dataset's `ground_truth` column (TRL passes dataset columns "
            f"as keywords; got {sorted(kwargs)})"
        )
    texts = [_completion_text(c, i) for i, c in enumerate(completions)]
    return [r.score for r in score_batch(texts, list(ground_truth))]


async def trl_reward_async(completions: Sequence[Any], ground_truth: Optional[Sequence[GroundTruth]] = None, **kwargs: Any) -> List[float]:
    """:func:`trl_reward` for TRL's async reward functions: runs in a
    thread so the event loop keeps going while the sandbox works."""
    return await asyncio.to_thread(trl_reward, completions, ground_truth, **kwargs)
