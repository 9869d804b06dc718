//! The embedded engine against llama.cpp's own (llama-cpp-python, which
//! `.ci/run` installs and points `CODEJURY_LLAMA_PYTHON` at) on the same
//! GGUF file: the same tokens for the same text, and the same greedy
//! continuation of a prompt whose answer is not a near tie.

use codejury_embedded::{EmbeddedConfig, EmbeddedGenerator};
use codejury_llm::{Prompt, Request, Sampling};
use std::path::PathBuf;
use std::process::Command;

fn llama_python() -> PathBuf {
    let p = std::env::var_os("CODEJURY_LLAMA_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/codejury-llama-venv/bin/python")
        });
    assert!(
        p.exists(),
        "no llama-cpp-python at {} (set CODEJURY_LLAMA_PYTHON; .ci/run installs it)",
        p.display()
    );
    p
}

const SCRIPT: &str = r#"
import json, sys
from llama_cpp import Llama
cfg = json.loads(sys.argv[1])
m = Llama(model_path=cfg["model"], verbose=False, n_ctx=512, n_threads=1)
tokens = [m.tokenize(t.encode(), add_bos=False, special=True) for t in cfg["texts"]]
out = m.create_completion(cfg["prompt"], max_tokens=cfg["max_tokens"], temperature=0.0, top_k=1)
print(json.dumps({"tokens": tokens, "text": out["choices"][0]["text"]}))
"#;

#[test]
fn tokens_and_a_greedy_answer_match_llama_cpp() {
    let model = codejury_bench::fetch::locate(&codejury_bench::fetch::SMOLLM2).unwrap();
    let g = EmbeddedGenerator::load(EmbeddedConfig {
        model: model.clone(),
        threads: 1,
        identity: "test".into(),
    })
    .unwrap();
    let texts = [
        "Hello world 12345 <|im_start|>user\nhi<|im_end|>\n",
        "def f(x):\n\treturn x+1  # ok\n",
        "    assert has_close_elements([1.0, 2.8, 3.0], 0.3) == True",
        "naïve café — 日本語 🙂 x²",
        "  trailing spaces   \n\n\n",
        "'s 're 've ll d's don't",
    ];
    let prompt = "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    if n < 2:\n        return n\n    return";
    let cfg = serde_json::json!({
        "model": model, "texts": texts, "prompt": prompt, "max_tokens": 12,
    });
    let out = Command::new(llama_python())
        .args(["-c", SCRIPT])
        .arg(cfg.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (i, t) in texts.iter().enumerate() {
        let ours = g.tokenize(t).unwrap();
        let want: Vec<u32> = serde_json::from_value(theirs["tokens"][i].clone()).unwrap();
        assert_eq!(ours, want, "tokens of {t:?}");
    }
    let r = g
        .generate_blocking(&Request {
            id: 0,
            task_id: "t".into(),
            prompt: Prompt::Text(prompt.into()),
            n: 1,
            start: 0,
            sampling: Sampling {
                temperature: 0.0,
                max_tokens: 12,
                ..Sampling::default()
            },
        })
        .unwrap();
    assert_eq!(
        r.completions[0].text,
        theirs["text"].as_str().unwrap(),
        "greedy continuation"
    );
}
