//! Naming a model: `embedded`, `openai:MODEL@URL`, `replay:FILE`, and
//! building the backend a name describes.

use crate::config::BackendSettings;
use crate::error::{config, Result};
use codejury_core::prompt::PromptStyle as Style;
use codejury_llm::http::{Api, HttpConfig, HttpGenerator};
use codejury_llm::replay::ReplayGenerator;
use codejury_llm::Generator;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Parses `135M`, `7B`, `8e9` or a plain number.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('m' | 'M') => (&t[..t.len() - 1], 1e6),
        Some('b' | 'B') => (&t[..t.len() - 1], 1e9),
        Some('t' | 'T') => (&t[..t.len() - 1], 1e12),
        _ => (t, 1.0),
    };
    num.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .map(|x| (x * mult) as u64)
        .ok_or_else(|| format!("{s:?} is not a count like 135M or 7B"))
}

/// A parsed backend name.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// The embedded model; `None` is the default file.
    Embedded(Option<PathBuf>),
    /// An OpenAI-compatible server.
    OpenAi {
        /// Model name.
        model: String,
        /// Chat or completions.
        api: Api,
        /// Base URLs.
        urls: Vec<String>,
    },
    /// Generations from a file.
    Replay(PathBuf),
}

impl std::str::FromStr for Spec {
    type Err = String;

    fn from_str(s: &str) -> Result<Spec, String> {
        let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
        match kind {
            "embedded" if rest.is_empty() => Ok(Spec::Embedded(None)),
            "embedded" => Ok(Spec::Embedded(Some(PathBuf::from(rest)))),
            "replay" if !rest.is_empty() => Ok(Spec::Replay(PathBuf::from(rest))),
            "openai" | "openai-completions" => {
                let (model, urls) = rest.split_once('@').ok_or_else(|| {
                    format!("{s:?}: expected {kind}:MODEL@URL[,URL...]")
                })?;
                let urls: Vec<String> = urls
                    .split(',')
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(str::to_string)
                    .collect();
                if model.is_empty() || urls.is_empty() {
                    return Err(format!("{s:?}: expected {kind}:MODEL@URL[,URL...]"));
                }
                if let Some(bad) = urls.iter().find(|u| !u.starts_with("http")) {
                    return Err(format!("{s:?}: {bad:?} is not an http(s) URL"));
                }
                let api = if kind == "openai" {
                    Api::Chat
                } else {
                    Api::Completions
                };
                Ok(Spec::OpenAi {
                    model: model.to_string(),
                    api,
                    urls,
                })
            }
            _ => Err(format!(
                "{s:?}: expected embedded[:FILE.gguf], openai:MODEL@URL, openai-completions:MODEL@URL or replay:FILE.jsonl"
            )),
        }
    }
}

/// A ready backend and the prompt style it wants.
#[derive(Clone)]
pub struct Backend {
    /// The generator.
    pub generator: Arc<dyn Generator>,
    /// Chat or base prompts.
    pub style: Style,
    /// What the user called it, for messages.
    pub name: String,
}

/// Builds both backends, loading an embedded model once when both use it.
pub fn build_pair(args: &BackendSettings) -> Result<(Backend, Backend)> {
    let policy: Spec = args
        .policy
        .parse()
        .map_err(|e| config(format!("--policy {e}")))?;
    let tester: Spec = args
        .tester
        .parse()
        .map_err(|e| config(format!("--tester {e}")))?;
    let p = build(&policy, &args.policy, args, args.policy_params)?;
    let t = if tester == policy && args.tester_params == args.policy_params {
        Backend {
            name: args.tester.clone(),
            ..p.clone()
        }
    } else {
        build(&tester, &args.tester, args, args.tester_params)?
    };
    Ok((p, t))
}

/// Loads an embedded model: the default file (fetched on first use) or a
/// given GGUF.
#[cfg(feature = "embedded")]
pub fn embedded(
    path: Option<&std::path::Path>,
    threads: usize,
) -> Result<codejury_embedded::EmbeddedGenerator> {
    use codejury_embedded::{EmbeddedConfig, EmbeddedGenerator};
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => codejury_bench::fetch::locate(&codejury_bench::fetch::SMOLLM2)?,
    };
    let identity = codejury_bench::fetch::sha256_file(&path)?;
    Ok(EmbeddedGenerator::load(EmbeddedConfig {
        model: path,
        threads,
        identity,
    })?)
}

fn build(spec: &Spec, name: &str, args: &BackendSettings, params: Option<u64>) -> Result<Backend> {
    let (generator, style): (Arc<dyn Generator>, Style) = match spec {
        #[cfg(feature = "embedded")]
        Spec::Embedded(path) => {
            let g = embedded(path.as_deref(), args.threads)?;
            let style = if g.is_chat() {
                Style::Chat
            } else {
                Style::Base
            };
            (Arc::new(g), style)
        }
        #[cfg(not(feature = "embedded"))]
        Spec::Embedded(_) => {
            return Err(config(format!(
                "{name}: this build has no embedded model (built without the `embedded` feature)"
            )))
        }
        Spec::OpenAi { model, api, urls } => {
            let mut config = HttpConfig::new(model.clone(), *api, urls.clone());
            config.api_key = std::env::var(&args.api_key_env)
                .ok()
                .filter(|k| !k.is_empty());
            config.concurrency = args.concurrency.max(1);
            config.max_attempts = args.max_attempts.max(1);
            config.timeout = Duration::from_secs(args.request_timeout.max(1));
            config.parameters = params;
            let style = match api {
                Api::Chat => Style::Chat,
                Api::Completions => Style::Base,
            };
            (Arc::new(HttpGenerator::new(config)?), style)
        }
        Spec::Replay(path) => (Arc::new(ReplayGenerator::open(path)?), Style::Chat),
    };
    if generator.identity().is_empty() {
        return Err(config(format!("{name}: backend has no identity")));
    }
    Ok(Backend {
        generator,
        style,
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_parse() {
        assert_eq!("embedded".parse::<Spec>(), Ok(Spec::Embedded(None)));
        assert_eq!(
            "embedded:/m/x.gguf".parse::<Spec>(),
            Ok(Spec::Embedded(Some("/m/x.gguf".into())))
        );
        assert_eq!(
            "openai:qwen@http://a:8000/v1,http://b:8000/v1".parse::<Spec>(),
            Ok(Spec::OpenAi {
                model: "qwen".into(),
                api: Api::Chat,
                urls: vec!["http://a:8000/v1".into(), "http://b:8000/v1".into()],
            })
        );
        assert!(matches!(
            "openai-completions:m@http://a/v1".parse::<Spec>(),
            Ok(Spec::OpenAi {
                api: Api::Completions,
                ..
            })
        ));
        assert!("openai:qwen"
            .parse::<Spec>()
            .unwrap_err()
            .contains("MODEL@URL"));
        assert!("openai:m@ftp://x"
            .parse::<Spec>()
            .unwrap_err()
            .contains("not an http"));
        assert!("vllm".parse::<Spec>().is_err());
        assert!("replay:".parse::<Spec>().is_err());
    }

    #[test]
    fn counts_take_suffixes() {
        assert_eq!(parse_count("135M"), Ok(135_000_000));
        assert_eq!(parse_count("7B"), Ok(7_000_000_000));
        assert_eq!(parse_count("1.5b"), Ok(1_500_000_000));
        assert!(parse_count("lots").is_err());
    }
}
