//! What a model is asked: chat messages or a text to continue, with the
//! stop sequences that go with it.
//!
//! Prompts are domain values — which question, in which layout — so they
//! live here; how they travel to a model (HTTP, an embedded engine, a
//! replay file) is the `codejury-llm` crate's business, and what they say
//! is each language's.
//!
//! ```
//! use codejury_core::prompt::{Ask, Message, Prompt};
//!
//! let ask = Ask {
//!     prompt: Prompt::Chat(vec![Message::user("Write add(a, b).")]),
//!     stop: Vec::new(),
//! };
//! assert!(matches!(ask.prompt, Prompt::Chat(_)));
//! ```

use serde::{Deserialize, Serialize};

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

impl Message {
    /// A user message: codejury's prompts are all single-turn.
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: "user".into(),
            content: content.into(),
        }
    }
}

/// What a model is asked: chat messages for instruction-tuned models, plain
/// text for base models to continue. Its JSON form is part of every
/// generation's cache key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Prompt {
    /// A conversation, sent to `/v1/chat/completions`.
    Chat(Vec<Message>),
    /// A text to continue, sent to `/v1/completions`.
    Text(String),
}

/// A prompt and the stop sequences that go with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    /// The prompt.
    pub prompt: Prompt,
    /// Where generation should stop.
    pub stop: Vec<String>,
}

/// How a model is asked to write code: the same question is phrased
/// differently for a chat model and for a base model that continues text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptStyle {
    /// An instruction-tuned model behind a chat template.
    Chat,
    /// A base model that continues text.
    Base,
}

/// How unit tests are asked for, and so what one generation yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestStyle {
    /// CodeRM's: one commented test unit (a `unittest.TestCase` class in
    /// Python) per generation, passing iff all its checks pass.
    Coderm,
    /// CodeT's: single assertions, each its own test, the first five of a
    /// generation kept.
    Codet,
}

impl TestStyle {
    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TestStyle::Coderm => "coderm",
            TestStyle::Codet => "codet",
        }
    }

    /// Most tests one generation may give: CodeT keeps the first five
    /// assertions of each sample; a CodeRM generation is one test.
    pub fn per_generation(self) -> usize {
        match self {
            TestStyle::Coderm => 1,
            TestStyle::Codet => CODET_TESTS_PER_SAMPLE,
        }
    }
}

/// CodeT keeps the first this-many assertions of each test sample.
pub const CODET_TESTS_PER_SAMPLE: usize = 5;
