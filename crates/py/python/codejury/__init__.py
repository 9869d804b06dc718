"""codejury: sample programs, let LLM-written unit tests vote, pick.

The Rust engine (a real sandbox: namespaces, cgroups, landlock, seccomp)
runs every candidate against every test; CodeRM's and CodeT's rules pick.
RL reward adapters live in :mod:`codejury.rl`, the Ray path in
:mod:`codejury.ray` (``pip install codejury[ray]``)."""

from ._native import (
    BenchError,
    CodejuryError,
    ConfigError,
    SandboxError,
    StoreError,
    __version__,
)
from ._api import configure, execute, extract, isolation, judge, label, run_code, select
from ._types import (
    RULES,
    VERDICTS,
    Choice,
    Isolation,
    Judgement,
    Label,
    Limits,
    Matrix,
    ProgramResult,
    RuleChoice,
)

__all__ = [
    "BenchError",
    "Choice",
    "CodejuryError",
    "ConfigError",
    "Isolation",
    "Judgement",
    "Label",
    "Limits",
    "Matrix",
    "ProgramResult",
    "RULES",
    "RuleChoice",
    "SandboxError",
    "StoreError",
    "VERDICTS",
    "__version__",
    "configure",
    "execute",
    "extract",
    "isolation",
    "judge",
    "label",
    "run_code",
    "select",
]
