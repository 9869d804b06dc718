//! The model's own tokenizer, built from the vocabulary and merges stored
//! in the GGUF (gpt2-style byte-level BPE), with the pre-tokenizer
//! llama.cpp uses for the file's `tokenizer.ggml.pre`. Encoding is the
//! `tokenizers` crate's; decoding maps each token back to its bytes.

use crate::gguf::{Gguf, GgufError};
use std::collections::HashMap;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer as HfTokenizer};

/// Marks of the end of a turn, by text, that llama.cpp also stops at.
const END_MARKS: [&str; 7] = [
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|end|>",
    "<end_of_turn>",
    "<|EOT|>",
    "<|end_of_text|>",
];

/// llama.cpp's split for llama-3 style tokenizers (`llama-bpe`).
const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// llama.cpp's split for Qwen2's tokenizer.
const QWEN2_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// A tokenizer and what generation needs from it.
pub(crate) struct Tokenizer {
    inner: HfTokenizer,
    /// Each token's bytes (control tokens: none).
    pieces: Vec<Vec<u8>>,
    /// Tokens that end a generation.
    end: Vec<u32>,
    bos: Option<u32>,
    add_bos: bool,
    /// Texts of the BOS and EOS tokens, for chat templates.
    pub(crate) bos_text: String,
    pub(crate) eos_text: String,
}

/// GPT-2's map from bytes to the printable characters BPE vocabularies
/// spell them with, reversed.
fn unicode_to_byte() -> HashMap<char, u8> {
    let mut bs: Vec<u32> = (u32::from(b'!')..=u32::from(b'~'))
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    bs.into_iter()
        .zip(cs)
        .filter_map(|(b, c)| char::from_u32(c).map(|c| (c, b as u8)))
        .collect()
}

impl Tokenizer {
    /// Builds the tokenizer the file describes.
    pub(crate) fn from_gguf(g: &Gguf) -> Result<Tokenizer, GgufError> {
        let kind = g.get("tokenizer.ggml.model")?.as_str().unwrap_or("");
        if kind != "gpt2" {
            return Err(GgufError::Format(format!(
                "tokenizer {kind:?}: the embedded engine reads gpt2-style (byte-level BPE) vocabularies"
            )));
        }
        let tokens = g.strings("tokenizer.ggml.tokens")?;
        let merges = g.strings("tokenizer.ggml.merges")?;
        let types = g.ints("tokenizer.ggml.token_type").unwrap_or_default();
        let vocab: tokenizers::models::bpe::Vocab = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32))
            .collect();
        let merges: Vec<(String, String)> = merges
            .iter()
            .filter_map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            })
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| GgufError::Format(format!("the BPE vocabulary: {e}")))?;
        let mut inner = HfTokenizer::new(bpe);
        let pre = g
            .metadata
            .get("tokenizer.ggml.pre")
            .and_then(|v| v.as_str())
            .unwrap_or("default");
        let byte_level = || ByteLevel::new(false, true, true);
        let split = |re: &str| -> Result<PreTokenizerWrapper, GgufError> {
            let s = Split::new(
                SplitPattern::Regex(re.to_string()),
                SplitDelimiterBehavior::Isolated,
                false,
            )
            .map_err(|e| GgufError::Format(format!("pre-tokenizer {pre}: {e}")))?;
            Ok(s.into())
        };
        let pre_tokenizer: PreTokenizerWrapper = match pre {
            "default" | "gpt2" | "gpt-2" => byte_level().into(),
            "smollm" | "starcoder" | "refact" => Sequence::new(vec![
                Digits::new(true).into(),
                byte_level().into(),
            ])
            .into(),
            "llama-bpe" | "llama3" => Sequence::new(vec![
                split(LLAMA3_SPLIT)?,
                ByteLevel::new(false, true, false).into(),
            ])
            .into(),
            "qwen2" => Sequence::new(vec![
                split(QWEN2_SPLIT)?,
                ByteLevel::new(false, true, false).into(),
            ])
            .into(),
            other => {
                return Err(GgufError::Format(format!(
                    "pre-tokenizer {other:?}: the embedded engine knows smollm, starcoder, gpt2, llama-bpe and qwen2"
                )))
            }
        };
        inner.with_pre_tokenizer(Some(pre_tokenizer));
        // Control tokens (type 3) and user-defined ones (type 4) are matched
        // whole in the text, as llama.cpp does with `parse_special`.
        let added: Vec<AddedToken> = tokens
            .iter()
            .enumerate()
            .filter(|(i, _)| matches!(types.get(*i), Some(3) | Some(4)))
            .map(|(_, t)| AddedToken::from(t.to_string(), true))
            .collect();
        inner.add_special_tokens(&added);
        let map = unicode_to_byte();
        let pieces: Vec<Vec<u8>> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| match types.get(i) {
                Some(3) => Vec::new(),
                Some(4) => t.as_bytes().to_vec(),
                _ => t
                    .chars()
                    .map(|c| map.get(&c).copied())
                    .collect::<Option<Vec<u8>>>()
                    .unwrap_or_else(|| t.as_bytes().to_vec()),
            })
            .collect();
        let id = |key: &str| {
            g.metadata
                .get(key)
                .and_then(|v| v.as_u64())
                .map(|v| v as u32)
        };
        let eos = id("tokenizer.ggml.eos_token_id");
        let bos = id("tokenizer.ggml.bos_token_id");
        let mut end: Vec<u32> = eos.into_iter().collect();
        end.extend(
            id("tokenizer.ggml.eot_token_id").into_iter().chain(
                tokens
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| END_MARKS.contains(t))
                    .map(|(i, _)| i as u32),
            ),
        );
        end.sort_unstable();
        end.dedup();
        let text = |t: Option<u32>| {
            t.and_then(|i| tokens.get(i as usize))
                .map_or(String::new(), |s| s.to_string())
        };
        Ok(Tokenizer {
            inner,
            pieces,
            end,
            bos,
            add_bos: g
                .metadata
                .get("tokenizer.ggml.add_bos_token")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            bos_text: text(bos),
            eos_text: text(eos),
        })
    }

    /// The tokens of `text` (special tokens written in it included), with
    /// the BOS token first when the model wants one.
    pub(crate) fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        let enc = self.inner.encode(text, false).map_err(|e| e.to_string())?;
        let mut ids = Vec::with_capacity(enc.get_ids().len() + 1);
        if self.add_bos {
            ids.extend(self.bos);
        }
        ids.extend_from_slice(enc.get_ids());
        Ok(ids)
    }

    /// The bytes token `id` stands for.
    pub(crate) fn piece(&self, id: u32) -> &[u8] {
        self.pieces.get(id as usize).map_or(&[], Vec::as_slice)
    }

    /// Whether `id` ends a generation.
    pub(crate) fn is_end(&self, id: u32) -> bool {
        self.end.binary_search(&id).is_ok()
    }
}
