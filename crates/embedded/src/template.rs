//! Chat prompts rendered with the chat template stored in the GGUF (a
//! Jinja template, as Hugging Face's `apply_chat_template` renders it),
//! ending with the assistant's opening so the model answers.

use crate::gguf::Gguf;
use codejury_llm::Message;
use minijinja::{context, Environment};

/// A GGUF's chat template, compiled.
pub(crate) struct ChatTemplate {
    env: Environment<'static>,
}

impl ChatTemplate {
    /// The file's template, if it has one.
    pub(crate) fn from_gguf(g: &Gguf) -> Result<Option<ChatTemplate>, String> {
        let Some(source) = g
            .metadata
            .get("tokenizer.chat_template")
            .and_then(|v| v.as_str())
        else {
            return Ok(None);
        };
        let mut env = Environment::new();
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |msg: String| -> Result<String, minijinja::Error> {
                Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    msg,
                ))
            },
        );
        env.add_template_owned("chat", source.to_string())
            .map_err(|e| format!("the chat template does not compile: {e}"))?;
        Ok(Some(ChatTemplate { env }))
    }

    /// `messages` rendered, with the generation prompt.
    pub(crate) fn render(
        &self,
        messages: &[Message],
        bos: &str,
        eos: &str,
    ) -> Result<String, String> {
        let t = self
            .env
            .get_template("chat")
            .map_err(|e| format!("chat template: {e}"))?;
        t.render(context! {
            messages => messages,
            add_generation_prompt => true,
            bos_token => bos,
            eos_token => eos,
        })
        .map_err(|e| format!("chat template: {e}"))
    }
}
