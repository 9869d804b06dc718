"""llama.cpp's own speed on a GGUF, through llama-cpp-python: the baseline
of `codejury bench generate`. Greedy, a fresh prefill per repeat (reset),
one JSON list of timings on stdout."""
import json
import sys
import time

from llama_cpp import Llama

cfg = json.loads(sys.argv[1])
llm = Llama(
    model_path=cfg["model"],
    n_threads=cfg["threads"],
    n_threads_batch=cfg["threads"],
    n_ctx=cfg["n_ctx"],
    verbose=False,
)
runs = []
for _ in range(cfg["repeats"]):
    llm.reset()
    t = time.perf_counter()
    res = llm.create_completion(
        cfg["prompt"], max_tokens=cfg["tokens"], temperature=0.0, top_k=1
    )
    runs.append(
        {
            "seconds": time.perf_counter() - t,
            "prompt_tokens": res["usage"]["prompt_tokens"],
            "completion_tokens": res["usage"]["completion_tokens"],
            "text": res["choices"][0]["text"],
        }
    )
print(json.dumps(runs))
