//! The transformer: a llama-family decoder (Llama, SmolLM, Qwen2) read
//! from GGUF, run token by token or in batches on the CPU, with the
//! arithmetic of llama.cpp's CPU backend — 8-bit quantized activations for
//! quantized weights, an f16 key/value cache, f64 sums in the norms — so
//! that its greedy text follows llama.cpp's.

use crate::gguf::{DType, Gguf, GgufError, TensorInfo};
use crate::quant::{quantize, Acts, Kernels, Matrix, Q8, QK};
use half::f16;

/// The shape of the network.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) n_layer: usize,
    pub(crate) n_embd: usize,
    pub(crate) n_head: usize,
    pub(crate) n_head_kv: usize,
    pub(crate) head_dim: usize,
    pub(crate) n_ff: usize,
    pub(crate) eps: f32,
    pub(crate) rope_base: f32,
    pub(crate) rope_dim: usize,
    /// Pairs (i, i + d/2) rotate together (NEOX, Qwen2) rather than
    /// (2i, 2i + 1) (Llama's GGUF layout).
    pub(crate) rope_neox: bool,
    pub(crate) n_ctx_train: usize,
}

impl Config {
    fn kv_dim(&self) -> usize {
        self.n_head_kv * self.head_dim
    }
}

struct Layer {
    attn_norm: Vec<f32>,
    wq: TensorInfo,
    wk: TensorInfo,
    wv: TensorInfo,
    wo: TensorInfo,
    bias: Option<[Vec<f32>; 3]>,
    ffn_norm: Vec<f32>,
    gate: TensorInfo,
    up: TensorInfo,
    down: TensorInfo,
}

/// The weights, mapped from the file.
pub(crate) struct Model {
    pub(crate) gguf: Gguf,
    pub(crate) config: Config,
    layers: Vec<Layer>,
    embed: TensorInfo,
    output: TensorInfo,
    out_norm: Vec<f32>,
    kernels: Kernels,
}

/// Keys and values of the positions seen so far, per layer, rounded to f16
/// as llama.cpp's default cache stores them.
pub(crate) struct Cache {
    k: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    capacity: usize,
    /// Positions held; generation truncates it to reuse a prompt's prefix.
    pub(crate) len: usize,
}

fn f32s(g: &Gguf, t: &TensorInfo) -> Vec<f32> {
    let b = g.bytes(t);
    match t.dtype {
        DType::F16 => b
            .chunks_exact(2)
            .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        _ => b
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    }
}

fn round16(x: f32) -> f32 {
    f16::from_f32(x).to_f32()
}

impl Model {
    /// Reads the network out of `gguf`.
    pub(crate) fn load(gguf: Gguf) -> Result<Model, GgufError> {
        let arch = gguf
            .get("general.architecture")?
            .as_str()
            .unwrap_or("")
            .to_string();
        if !matches!(arch.as_str(), "llama" | "qwen2") {
            return Err(GgufError::Format(format!(
                "architecture {arch:?}: the embedded engine runs llama and qwen2 models"
            )));
        }
        let key = |k: &str| format!("{arch}.{k}");
        let n_embd = gguf.usize(&key("embedding_length"))?;
        let n_head = gguf.usize(&key("attention.head_count"))?;
        let n_head_kv = gguf
            .usize(&key("attention.head_count_kv"))
            .unwrap_or(n_head);
        let head_dim = n_embd / n_head.max(1);
        let float = |k: &str, default: f64| {
            gguf.metadata
                .get(&key(k))
                .and_then(|v| v.as_f64())
                .unwrap_or(default) as f32
        };
        let (embed, _) = gguf.tensor("token_embd.weight")?;
        let embed = embed.clone();
        let config = Config {
            n_layer: gguf.usize(&key("block_count"))?,
            n_embd,
            n_head,
            n_head_kv,
            head_dim,
            n_ff: gguf.usize(&key("feed_forward_length"))?,
            eps: float("attention.layer_norm_rms_epsilon", 1e-5),
            rope_base: float("rope.freq_base", 10_000.0),
            rope_dim: gguf.usize(&key("rope.dimension_count")).unwrap_or(head_dim),
            rope_neox: arch == "qwen2",
            n_ctx_train: gguf.usize(&key("context_length")).unwrap_or(2048),
        };
        if !n_embd.is_multiple_of(QK)
            || !config.n_ff.is_multiple_of(QK)
            || head_dim * n_head != n_embd
        {
            return Err(GgufError::Format(format!(
                "a width of {n_embd} with {n_head} heads and {} hidden units does not fit blocks of {QK}",
                config.n_ff
            )));
        }
        let t = |name: &str| -> Result<TensorInfo, GgufError> { Ok(gguf.tensor(name)?.0.clone()) };
        let mut layers = Vec::with_capacity(config.n_layer);
        for i in 0..config.n_layer {
            let p = |n: &str| format!("blk.{i}.{n}");
            let bias = if gguf.has(&p("attn_q.bias")) {
                Some([
                    f32s(&gguf, &t(&p("attn_q.bias"))?),
                    f32s(&gguf, &t(&p("attn_k.bias"))?),
                    f32s(&gguf, &t(&p("attn_v.bias"))?),
                ])
            } else {
                None
            };
            layers.push(Layer {
                attn_norm: f32s(&gguf, &t(&p("attn_norm.weight"))?),
                wq: t(&p("attn_q.weight"))?,
                wk: t(&p("attn_k.weight"))?,
                wv: t(&p("attn_v.weight"))?,
                wo: t(&p("attn_output.weight"))?,
                bias,
                ffn_norm: f32s(&gguf, &t(&p("ffn_norm.weight"))?),
                gate: t(&p("ffn_gate.weight"))?,
                up: t(&p("ffn_up.weight"))?,
                down: t(&p("ffn_down.weight"))?,
            });
        }
        // Models with tied embeddings have no separate output matrix.
        let output = if gguf.has("output.weight") {
            t("output.weight")?
        } else {
            embed.clone()
        };
        let out_norm = f32s(&gguf, &t("output_norm.weight")?);
        Ok(Model {
            gguf,
            config,
            layers,
            embed,
            output,
            out_norm,
            kernels: Kernels::detect(),
        })
    }

    /// The parameter count.
    pub(crate) fn parameters(&self) -> u64 {
        let count = |t: &TensorInfo| t.shape.iter().product::<usize>() as u64;
        let mut n = count(&self.embed) + self.out_norm.len() as u64;
        if self.output.offset != self.embed.offset {
            n += count(&self.output);
        }
        for l in &self.layers {
            n += [&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down]
                .into_iter()
                .map(count)
                .sum::<u64>();
            n += (l.attn_norm.len() + l.ffn_norm.len()) as u64;
            if let Some(b) = &l.bias {
                n += b.iter().map(|v| v.len() as u64).sum::<u64>();
            }
        }
        n
    }

    fn matrix(&self, t: &TensorInfo) -> Matrix<'_> {
        Matrix {
            dtype: t.dtype,
            rows: t.shape.get(1).copied().unwrap_or(1),
            cols: t.shape[0],
            data: self.gguf.bytes(t),
        }
    }

    /// An empty cache for `capacity` positions.
    pub(crate) fn cache(&self, capacity: usize) -> Cache {
        let kv = self.config.kv_dim();
        Cache {
            k: (0..self.config.n_layer)
                .map(|_| vec![0f32; capacity * kv])
                .collect(),
            v: (0..self.config.n_layer)
                .map(|_| vec![0f32; capacity * kv])
                .collect(),
            capacity,
            len: 0,
        }
    }

    /// `w` times each token's activations `x`, quantized once in `q8`.
    fn matmul(
        &self,
        w: &TensorInfo,
        x: &[f32],
        q8: &[Q8],
        tokens: usize,
        pool: Option<&rayon::ThreadPool>,
    ) -> Vec<f32> {
        let m = self.matrix(w);
        let mut out = vec![0f32; tokens * m.rows];
        self.kernels
            .matmul(&m, &Acts { f32: x, q8, tokens }, &mut out, pool);
        out
    }

    fn rms_norm(&self, x: &[f32], w: &[f32]) -> Vec<f32> {
        let e = self.config.n_embd;
        let mut out = vec![0f32; x.len()];
        for (o, r) in out.chunks_exact_mut(e).zip(x.chunks_exact(e)) {
            let sum: f64 = r.iter().map(|v| f64::from(*v) * f64::from(*v)).sum();
            let scale = 1.0 / ((sum / e as f64) as f32 + self.config.eps).sqrt();
            for ((o, v), g) in o.iter_mut().zip(r).zip(w) {
                *o = v * scale * g;
            }
        }
        out
    }

    fn rope(&self, x: &mut [f32], heads: usize, pos: usize) {
        let c = &self.config;
        let d = c.head_dim;
        let n = c.rope_dim.min(d);
        let scale = c.rope_base.powf(-2.0 / n as f32);
        for h in 0..heads {
            let v = &mut x[h * d..(h + 1) * d];
            let mut theta = pos as f32;
            for i in 0..n / 2 {
                let (sin, cos) = theta.sin_cos();
                let (a, b) = if c.rope_neox {
                    (i, i + n / 2)
                } else {
                    (2 * i, 2 * i + 1)
                };
                let (x0, x1) = (v[a], v[b]);
                v[a] = x0 * cos - x1 * sin;
                v[b] = x0 * sin + x1 * cos;
                theta *= scale;
            }
        }
    }

    /// Runs `tokens` at positions `cache.len..`, appending their keys and
    /// values to the cache; returns the final normed hidden state of the
    /// last token.
    pub(crate) fn forward(
        &self,
        tokens: &[u32],
        cache: &mut Cache,
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<Vec<f32>, String> {
        let c = &self.config;
        let (e, kv, hd) = (c.n_embd, c.kv_dim(), c.head_dim);
        let t_n = tokens.len();
        let pos0 = cache.len;
        if pos0 + t_n > cache.capacity {
            return Err(format!(
                "the context holds {} positions; {} were asked for",
                cache.capacity,
                pos0 + t_n
            ));
        }
        let embed = self.matrix(&self.embed);
        let mut x = vec![0f32; t_n * e];
        for (row, &tok) in x.chunks_exact_mut(e).zip(tokens) {
            if tok as usize >= embed.rows {
                return Err(format!("token {tok} is outside the vocabulary"));
            }
            embed.dequantize_row(tok as usize, row);
        }
        let group = c.n_head / c.n_head_kv.max(1);
        let scale = 1.0 / (hd as f32).sqrt();
        for (li, l) in self.layers.iter().enumerate() {
            let xn = self.rms_norm(&x, &l.attn_norm);
            let xq = quantize(&xn);
            let mut q = self.matmul(&l.wq, &xn, &xq, t_n, pool);
            let mut k = self.matmul(&l.wk, &xn, &xq, t_n, pool);
            let mut v = self.matmul(&l.wv, &xn, &xq, t_n, pool);
            if let Some([bq, bk, bv]) = &l.bias {
                for (m, b) in [(&mut q, bq), (&mut k, bk), (&mut v, bv)] {
                    for row in m.chunks_exact_mut(b.len()) {
                        for (a, bb) in row.iter_mut().zip(b) {
                            *a += bb;
                        }
                    }
                }
            }
            for t in 0..t_n {
                let pos = pos0 + t;
                self.rope(&mut q[t * e..(t + 1) * e], c.n_head, pos);
                self.rope(&mut k[t * kv..(t + 1) * kv], c.n_head_kv, pos);
                let kc = &mut cache.k[li][pos * kv..(pos + 1) * kv];
                for (dst, src) in kc.iter_mut().zip(&k[t * kv..(t + 1) * kv]) {
                    *dst = round16(*src);
                }
                let vc = &mut cache.v[li][pos * kv..(pos + 1) * kv];
                for (dst, src) in vc.iter_mut().zip(&v[t * kv..(t + 1) * kv]) {
                    *dst = round16(*src);
                }
            }
            let mut att = vec![0f32; t_n * e];
            let mut scores = Vec::new();
            for t in 0..t_n {
                let seen = pos0 + t + 1;
                for h in 0..c.n_head {
                    let kh = h / group;
                    let qh: Vec<f32> = q[t * e + h * hd..t * e + (h + 1) * hd]
                        .iter()
                        .map(|v| round16(*v))
                        .collect();
                    scores.clear();
                    let keys = &cache.k[li];
                    for p in 0..seen {
                        let kp = &keys[p * kv + kh * hd..p * kv + (kh + 1) * hd];
                        let dot: f32 = qh.iter().zip(kp).map(|(a, b)| a * b).sum();
                        scores.push(dot * scale);
                    }
                    let max = scores.iter().fold(f32::NEG_INFINITY, |m, s| m.max(*s));
                    let mut sum = 0f64;
                    for s in scores.iter_mut() {
                        *s = (*s - max).exp();
                        sum += f64::from(*s);
                    }
                    let inv = (1.0 / sum) as f32;
                    let out = &mut att[t * e + h * hd..t * e + (h + 1) * hd];
                    let values = &cache.v[li];
                    for (p, s) in scores.iter().enumerate() {
                        let w = round16(s * inv);
                        let vp = &values[p * kv + kh * hd..p * kv + (kh + 1) * hd];
                        for (o, vv) in out.iter_mut().zip(vp) {
                            *o += w * vv;
                        }
                    }
                }
            }
            let o = self.matmul(&l.wo, &att, &quantize(&att), t_n, pool);
            for (a, b) in x.iter_mut().zip(&o) {
                *a += b;
            }
            let xn = self.rms_norm(&x, &l.ffn_norm);
            let xq = quantize(&xn);
            let gate = self.matmul(&l.gate, &xn, &xq, t_n, pool);
            let up = self.matmul(&l.up, &xn, &xq, t_n, pool);
            let hidden: Vec<f32> = gate
                .iter()
                .zip(&up)
                .map(|(g, u)| g / (1.0 + (-g).exp()) * u)
                .collect();
            let down = self.matmul(&l.down, &hidden, &quantize(&hidden), t_n, pool);
            for (a, b) in x.iter_mut().zip(&down) {
                *a += b;
            }
        }
        cache.len = pos0 + t_n;
        let last = &x[(t_n - 1) * e..];
        Ok(self.rms_norm(last, &self.out_norm))
    }

    /// Whether the SIMD kernels are in use.
    pub(crate) fn kernels_simd(&self) -> bool {
        self.kernels.simd
    }

    /// The logits of a final hidden state.
    pub(crate) fn logits(&self, hidden: &[f32], pool: Option<&rayon::ThreadPool>) -> Vec<f32> {
        self.matmul(&self.output, hidden, &quantize(hidden), 1, pool)
    }
}
