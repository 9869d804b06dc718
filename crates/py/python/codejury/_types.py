"""Typed results of codejury's calls: frozen dataclasses built from the
JSON the Rust engine returns (the shapes `codejury serve` speaks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

#: What a (candidate, test) pair can end as. ``sandbox-error`` means the
#: sandbox never judged the pair: it is never the candidate's fault.
VERDICTS = (
    "pass",
    "fail",
    "error",
    "timeout",
    "memory",
    "output-limit",
    "killed",
    "sandbox-error",
)

#: The selection rules, as the command line names them.
RULES = ("coderm", "codet", "codet-paper", "mbr", "passcount", "random")


@dataclass(frozen=True)
class Limits:
    """Limits of one pair. ``timeout_ms`` is CPU time (the paper: 1 s), so
    a verdict does not change with the machine's load; ``wall_ms`` is only
    a backstop for code that blocks (``None``: max(3x, +1 s))."""

    timeout_ms: int = 1000
    memory_mb: int = 1024
    output_kb: int = 1024
    nproc: int = 64
    wall_ms: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "timeout_ms": self.timeout_ms,
            "memory_mb": self.memory_mb,
            "output_kb": self.output_kb,
            "nproc": self.nproc,
        }
        if self.wall_ms is not None:
            d["wall_ms"] = self.wall_ms
        return d


@dataclass(frozen=True)
class Isolation:
    """The sandbox's layers and whether each is in force on this machine."""

    namespaces: bool
    cgroups: bool
    landlock: bool
    seccomp: bool

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Isolation":
        return cls(
            namespaces=bool(d["namespaces"]),
            cgroups=bool(d["cgroups"]),
            landlock=bool(d["landlock"]),
            seccomp=bool(d["seccomp"]),
        )


@dataclass(frozen=True)
class RuleChoice:
    """A rule's pick: ``chosen`` is the first of the candidates it ties
    at the top (a deterministic pick), ``tied`` all of them."""

    chosen: int
    tied: Tuple[int, ...]


@dataclass(frozen=True)
class Matrix:
    """Every candidate run against every test: ``verdicts[i][j]`` is
    candidate ``i`` on test ``j``."""

    verdicts: Tuple[Tuple[str, ...], ...]
    #: Distinct tests each candidate passes.
    passed: Tuple[int, ...]
    #: Pairs in the matrix, pairs run now, and pairs the run store answered.
    pairs: int
    executed: int
    cached: int
    isolation: Isolation

    @property
    def pass_matrix(self) -> List[List[bool]]:
        """The matrix as booleans, what :func:`codejury.select` votes on."""
        return [[v == "pass" for v in row] for row in self.verdicts]

    @property
    def sandbox_errors(self) -> int:
        """Pairs the sandbox failed to judge (0 on a healthy machine)."""
        return sum(v == "sandbox-error" for row in self.verdicts for v in row)


@dataclass(frozen=True)
class Judgement(Matrix):
    """A judged problem: its matrix and each requested rule's pick."""

    rules: Dict[str, RuleChoice] = field(default_factory=dict)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Judgement":
        return cls(
            verdicts=tuple(tuple(row) for row in d["verdicts"]),
            passed=tuple(d["passed"]),
            pairs=d["pairs"],
            executed=d["executed"],
            cached=d["cached"],
            isolation=Isolation.from_json(d["isolation"]),
            rules={
                name: RuleChoice(chosen=c["chosen"], tied=tuple(c["tied"]))
                for name, c in d["rules"].items()
            },
        )


@dataclass(frozen=True)
class Choice:
    """:func:`codejury.select`'s answer: ``chosen`` is ``None`` only for an
    empty matrix."""

    chosen: Optional[int]
    tied: Tuple[int, ...]


@dataclass(frozen=True)
class Label:
    """A sample's ground-truth verdict on a benchmark."""

    task_id: str
    passed: bool
    verdict: str
    message: str
    cpu_ms: float
    wall_ms: float


@dataclass(frozen=True)
class ProgramResult:
    """How one whole program ended. ``verdict == "pass"`` means it ran to
    its end, whatever its exit code (``return_code``); ``timeout`` and
    ``memory`` mean a limit stopped it."""

    verdict: str
    message: str
    return_code: Optional[int]
    stdout: str
    stderr: str
    truncated: bool
    files: Dict[str, str]
    cpu_ms: float
    wall_ms: float
