//! ggml's block formats and the kernels that multiply them: the dot
//! product of a quantized weight row with quantized activations, as
//! llama.cpp computes it (activations quantized per 32 values to 8 bits,
//! integer dot products, one scale per block), in AVX2 where the CPU has
//! it and in plain Rust everywhere else.

use crate::gguf::DType;
use half::f16;
use rayon::prelude::*;

/// Values per quantization block.
pub(crate) const QK: usize = 32;

/// One block of activations, quantized the way ggml quantizes them for a
/// dot product with quantized weights (`block_q8_1`; `block_q8_0` is the
/// same without `s`): scales rounded through f16, as ggml stores them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Q8 {
    d: f32,
    s: f32,
    qs: [i8; QK],
}

fn f16_round(x: f32) -> f32 {
    f16::from_f32(x).to_f32()
}

fn f16_at(b: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

/// Quantizes `x` (a multiple of 32 long) into blocks.
pub(crate) fn quantize(x: &[f32]) -> Vec<Q8> {
    x.chunks_exact(QK)
        .map(|c| {
            // As ggml's AVX2 quantizer does it: the inverse scale from the
            // maximum, ties to even.
            let amax = c.iter().fold(0f32, |m, v| m.max(v.abs()));
            let d = amax / 127.0;
            let id = if amax != 0.0 { 127.0 / amax } else { 0.0 };
            let mut qs = [0i8; QK];
            let mut sum = 0i32;
            for (q, v) in qs.iter_mut().zip(c) {
                *q = (v * id).round_ties_even() as i8;
                sum += i32::from(*q);
            }
            Q8 {
                d: f16_round(d),
                s: f16_round(sum as f32 * d),
                qs,
            }
        })
        .collect()
}

/// A weight matrix: `rows` rows of `cols` values in ggml's layout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Matrix<'a> {
    pub(crate) dtype: DType,
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) data: &'a [u8],
}

impl Matrix<'_> {
    pub(crate) fn row_bytes(&self) -> usize {
        let (per, bytes) = self.dtype.block();
        self.cols / per * bytes
    }

    pub(crate) fn row(&self, r: usize) -> &[u8] {
        let n = self.row_bytes();
        &self.data[r * n..(r + 1) * n]
    }

    /// Row `r` as f32 values (embedding lookups).
    pub(crate) fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        let row = self.row(r);
        match self.dtype {
            DType::F32 => {
                for (o, b) in out.iter_mut().zip(row.chunks_exact(4)) {
                    *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
            DType::F16 => {
                for (o, b) in out.iter_mut().zip(row.chunks_exact(2)) {
                    *o = f16::from_le_bytes([b[0], b[1]]).to_f32();
                }
            }
            DType::Q8_0 => {
                for (o, b) in out.chunks_exact_mut(QK).zip(row.chunks_exact(34)) {
                    let d = f16_at(b, 0);
                    for (v, q) in o.iter_mut().zip(&b[2..34]) {
                        *v = d * f32::from(*q as i8);
                    }
                }
            }
            DType::Q4_0 | DType::Q4_1 => {
                let (size, has_min) = if self.dtype == DType::Q4_1 {
                    (20, true)
                } else {
                    (18, false)
                };
                for (o, b) in out.chunks_exact_mut(QK).zip(row.chunks_exact(size)) {
                    let d = f16_at(b, 0);
                    let (m, qs) = if has_min {
                        (f16_at(b, 2), &b[4..20])
                    } else {
                        (-8.0 * d, &b[2..18])
                    };
                    for j in 0..16 {
                        o[j] = d * f32::from(qs[j] & 0x0F) + m;
                        o[j + 16] = d * f32::from(qs[j] >> 4) + m;
                    }
                }
            }
        }
    }
}

/// Activations of `tokens` positions: as f32 (for f32/f16 weights) and
/// quantized (for quantized weights).
pub(crate) struct Acts<'a> {
    pub(crate) f32: &'a [f32],
    pub(crate) q8: &'a [Q8],
    pub(crate) tokens: usize,
}

type DotFn = fn(&[u8], &[Q8]) -> f32;

/// The kernels for this CPU, chosen once.
#[derive(Clone, Copy)]
pub(crate) struct Kernels {
    q4_0: DotFn,
    q4_1: DotFn,
    q8_0: DotFn,
    /// Whether the SIMD kernels are in use, for reports.
    pub(crate) simd: bool,
}

impl Kernels {
    /// AVX2 + FMA where the CPU has them, portable code otherwise.
    pub(crate) fn detect() -> Kernels {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Kernels {
                    q4_0: avx2::q4_0,
                    q4_1: avx2::q4_1,
                    q8_0: avx2::q8_0,
                    simd: true,
                };
            }
        }
        Kernels::portable()
    }

    /// The portable kernels (tests compare the SIMD ones against them).
    pub(crate) fn portable() -> Kernels {
        Kernels {
            q4_0: scalar::q4_0,
            q4_1: scalar::q4_1,
            q8_0: scalar::q8_0,
            simd: false,
        }
    }

    /// The dot product of one weight row with the activations of token
    /// `t`, for weights of `dtype`.
    fn row_dot(&self, dtype: DType) -> RowDot {
        match dtype {
            DType::F32 => RowDot::F32,
            DType::F16 => RowDot::F16,
            DType::Q4_0 => RowDot::Quant(self.q4_0),
            DType::Q4_1 => RowDot::Quant(self.q4_1),
            DType::Q8_0 => RowDot::Quant(self.q8_0),
        }
    }

    /// `out[t * rows + r]` = row `r` of `w` · activations of token `t`.
    /// Each weight row is read once for all tokens (it stays in cache);
    /// rows are split across the pool's threads.
    pub(crate) fn matmul(
        &self,
        w: &Matrix<'_>,
        x: &Acts<'_>,
        out: &mut [f32],
        pool: Option<&rayon::ThreadPool>,
    ) {
        let rows = w.rows;
        let tokens = x.tokens;
        let cols = w.cols;
        let blocks = cols / QK;
        let dot = self.row_dot(w.dtype);
        let one = |row: &[u8], t: usize| -> f32 {
            match dot {
                RowDot::Quant(k) => k(row, &x.q8[t * blocks..(t + 1) * blocks]),
                RowDot::F32 => row
                    .chunks_exact(4)
                    .zip(&x.f32[t * cols..(t + 1) * cols])
                    .map(|(b, v)| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) * v)
                    .sum(),
                RowDot::F16 => row
                    .chunks_exact(2)
                    .zip(&x.f32[t * cols..(t + 1) * cols])
                    .map(|(b, v)| f16::from_le_bytes([b[0], b[1]]).to_f32() * f16_round(*v))
                    .sum(),
            }
        };
        let row_bytes = w.row_bytes();
        if tokens == 1 {
            // One token: rows straight into the output, split into chunks.
            let fill = |r0: usize, chunk: &mut [f32]| {
                for (k, o) in chunk.iter_mut().enumerate() {
                    let r = r0 + k;
                    *o = one(&w.data[r * row_bytes..(r + 1) * row_bytes], 0);
                }
            };
            match pool {
                Some(pool) if rows >= 64 => {
                    // One contiguous range per thread: each streams its own
                    // part of the matrix once; more pieces only add wake-ups.
                    let chunk = rows.div_ceil(pool.current_num_threads().max(1));
                    pool.install(|| {
                        out[..rows]
                            .par_chunks_mut(chunk)
                            .enumerate()
                            .for_each(|(i, c)| fill(i * chunk, c));
                    });
                }
                _ => fill(0, &mut out[..rows]),
            }
            return;
        }
        let run = |r0: usize, r1: usize, local: &mut [f32]| {
            for r in r0..r1 {
                let row = &w.data[r * row_bytes..(r + 1) * row_bytes];
                for t in 0..tokens {
                    local[(r - r0) * tokens + t] = one(row, t);
                }
            }
        };
        match pool {
            Some(pool) if rows >= 64 => {
                let threads = pool.current_num_threads().max(1);
                let chunk = rows.div_ceil(threads * 4).max(16);
                let parts: Vec<(usize, Vec<f32>)> = pool.install(|| {
                    (0..rows)
                        .step_by(chunk)
                        .collect::<Vec<_>>()
                        .into_par_iter()
                        .map(|r0| {
                            let r1 = (r0 + chunk).min(rows);
                            let mut local = vec![0f32; (r1 - r0) * tokens];
                            run(r0, r1, &mut local);
                            (r0, local)
                        })
                        .collect()
                });
                for (r0, local) in parts {
                    scatter(&local, r0, rows, tokens, out);
                }
            }
            _ => {
                let mut local = vec![0f32; rows * tokens];
                run(0, rows, &mut local);
                scatter(&local, 0, rows, tokens, out);
            }
        }
    }
}

/// How one row's dot product is computed.
#[derive(Clone, Copy)]
enum RowDot {
    Quant(DotFn),
    F32,
    F16,
}

/// Copies a row-major (row, token) block into the token-major output.
fn scatter(local: &[f32], r0: usize, rows: usize, tokens: usize, out: &mut [f32]) {
    for (k, v) in local.iter().enumerate() {
        let (r, t) = (r0 + k / tokens, k % tokens);
        out[t * rows + r] = *v;
    }
}

mod scalar {
    use super::{f16_at, Q8, QK};

    pub(super) fn q4_0(w: &[u8], x: &[Q8]) -> f32 {
        let mut sum = 0f32;
        for (b, y) in w.chunks_exact(18).zip(x) {
            let mut s = 0i32;
            for j in 0..QK / 2 {
                let lo = i32::from(b[2 + j] & 0x0F) - 8;
                let hi = i32::from(b[2 + j] >> 4) - 8;
                s += lo * i32::from(y.qs[j]) + hi * i32::from(y.qs[j + QK / 2]);
            }
            sum += f16_at(b, 0) * y.d * s as f32;
        }
        sum
    }

    pub(super) fn q4_1(w: &[u8], x: &[Q8]) -> f32 {
        let mut sum = 0f32;
        for (b, y) in w.chunks_exact(20).zip(x) {
            let mut s = 0i32;
            for j in 0..QK / 2 {
                let lo = i32::from(b[4 + j] & 0x0F);
                let hi = i32::from(b[4 + j] >> 4);
                s += lo * i32::from(y.qs[j]) + hi * i32::from(y.qs[j + QK / 2]);
            }
            sum += f16_at(b, 0) * y.d * s as f32 + f16_at(b, 2) * y.s;
        }
        sum
    }

    pub(super) fn q8_0(w: &[u8], x: &[Q8]) -> f32 {
        let mut sum = 0f32;
        for (b, y) in w.chunks_exact(34).zip(x) {
            let mut s = 0i32;
            for j in 0..QK {
                s += i32::from(b[2 + j] as i8) * i32::from(y.qs[j]);
            }
            sum += f16_at(b, 0) * y.d * s as f32;
        }
        sum
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{f16_at, Q8};
    use std::arch::x86_64::*;

    /// How far ahead of the block being summed its row's bytes are fetched.
    const PREFETCH: usize = 3072;

    // SAFETY (for every `unsafe` below): these functions are only handed
    // out by `Kernels::detect` after it confirmed AVX2 and FMA at run time;
    // every load reads 16 or 32 bytes inside a block that `chunks_exact`
    // proved long enough (a block holds 16 or 32 quant bytes after its
    // scales, and `Q8::qs` is 32 bytes).

    #[target_feature(enable = "avx2,fma")]
    unsafe fn hsum(v: __m256) -> f32 {
        let hi = _mm256_extractf128_ps(v, 1);
        let lo = _mm256_castps256_ps128(v);
        let s = _mm_add_ps(hi, lo);
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        _mm_cvtss_f32(s)
    }

    /// 32 nibbles of 16 bytes as 32 bytes: low nibbles first, then high.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn nibbles(p: *const u8) -> __m256i {
        let bytes = _mm_loadu_si128(p.cast());
        let mask = _mm_set1_epi8(0x0F);
        let lo = _mm_and_si128(bytes, mask);
        let hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
        _mm256_set_m128i(hi, lo)
    }

    /// Sum of products of unsigned bytes `x` and signed bytes `y`, as 8 floats.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn dot_u8_i8(x: __m256i, y: __m256i) -> __m256 {
        let pairs = _mm256_maddubs_epi16(x, y);
        _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
    }

    /// Sum of products of two signed byte vectors, as 8 floats.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn dot_i8_i8(x: __m256i, y: __m256i) -> __m256 {
        let ax = _mm256_sign_epi8(x, x);
        let sy = _mm256_sign_epi8(y, x);
        dot_u8_i8(ax, sy)
    }

    /// One block's `d·(x·y)` as 8 floats and its `m·s` term.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn q4_1_block(b: &[u8], y: &Q8) -> (__m256, f32) {
        // Ask for the weights a few blocks ahead: rows run on into the
        // next, so this also warms the next row's start.
        _mm_prefetch::<_MM_HINT_T0>(b.as_ptr().wrapping_add(PREFETCH).cast());
        let q = nibbles(b.as_ptr().add(4));
        let v = _mm256_loadu_si256(y.qs.as_ptr().cast());
        let d = _mm256_set1_ps(f16_at(b, 0) * y.d);
        (_mm256_mul_ps(d, dot_u8_i8(q, v)), f16_at(b, 2) * y.s)
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn q4_1_impl(w: &[u8], x: &[Q8]) -> f32 {
        // Four independent accumulators: each block's sum does not wait
        // for the one before it, so loads of later blocks overlap.
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut mins = [0f32; 4];
        let mut blocks = w.chunks_exact(20).zip(x);
        loop {
            let mut done = false;
            for k in 0..4 {
                match blocks.next() {
                    Some((b, y)) => {
                        let (v, m) = q4_1_block(b, y);
                        acc[k] = _mm256_add_ps(acc[k], v);
                        mins[k] += m;
                    }
                    None => {
                        done = true;
                        break;
                    }
                }
            }
            if done {
                break;
            }
        }
        let a = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        hsum(a) + (mins[0] + mins[1]) + (mins[2] + mins[3])
    }

    /// A block of signed bytes at `q` times `y`, scaled by `d`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn i8_block(b: &[u8], q: __m256i, y: &Q8) -> __m256 {
        _mm_prefetch::<_MM_HINT_T0>(b.as_ptr().wrapping_add(PREFETCH).cast());
        let v = _mm256_loadu_si256(y.qs.as_ptr().cast());
        let d = _mm256_set1_ps(f16_at(b, 0) * y.d);
        _mm256_mul_ps(d, dot_i8_i8(q, v))
    }

    /// Sums `block` over the blocks of a row with four independent
    /// accumulators.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sum4(w: &[u8], size: usize, x: &[Q8], block: impl Fn(&[u8], &Q8) -> __m256) -> f32 {
        let mut acc = [_mm256_setzero_ps(); 4];
        for (k, (b, y)) in w.chunks_exact(size).zip(x).enumerate() {
            acc[k & 3] = _mm256_add_ps(acc[k & 3], block(b, y));
        }
        hsum(_mm256_add_ps(
            _mm256_add_ps(acc[0], acc[1]),
            _mm256_add_ps(acc[2], acc[3]),
        ))
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn q4_0_impl(w: &[u8], x: &[Q8]) -> f32 {
        let eight = _mm256_set1_epi8(8);
        sum4(w, 18, x, |b, y| {
            // SAFETY: inside q4_0_impl, whose caller checked AVX2.
            unsafe {
                let q = _mm256_sub_epi8(nibbles(b.as_ptr().add(2)), eight);
                i8_block(b, q, y)
            }
        })
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn q8_0_impl(w: &[u8], x: &[Q8]) -> f32 {
        sum4(w, 34, x, |b, y| {
            // SAFETY: inside q8_0_impl, whose caller checked AVX2.
            unsafe { i8_block(b, _mm256_loadu_si256(b.as_ptr().add(2).cast()), y) }
        })
    }

    pub(super) fn q4_1(w: &[u8], x: &[Q8]) -> f32 {
        // SAFETY: see the module comment.
        unsafe { q4_1_impl(w, x) }
    }

    pub(super) fn q4_0(w: &[u8], x: &[Q8]) -> f32 {
        // SAFETY: see the module comment.
        unsafe { q4_0_impl(w, x) }
    }

    pub(super) fn q8_0(w: &[u8], x: &[Q8]) -> f32 {
        // SAFETY: see the module comment.
        unsafe { q8_0_impl(w, x) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Quantizes random rows into each block format, then checks that the
    /// kernels agree with each other and with the dequantized f32 product.
    #[test]
    fn kernels_agree_with_each_other_and_with_f32() {
        let mut seed = 12345u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let cols = 256;
        let x: Vec<f32> = (0..cols).map(|_| rnd()).collect();
        let xq = quantize(&x);
        let acts = Acts {
            f32: &x,
            q8: &xq,
            tokens: 1,
        };
        let w: Vec<f32> = (0..cols).map(|_| rnd()).collect();
        for dtype in [DType::Q4_0, DType::Q4_1, DType::Q8_0] {
            let bytes = encode(&w, dtype);
            let m = Matrix {
                dtype,
                rows: 1,
                cols,
                data: &bytes,
            };
            let mut deq = vec![0f32; cols];
            m.dequantize_row(0, &mut deq);
            let exact: f32 = deq.iter().zip(&x).map(|(a, b)| a * b).sum();
            let mut a = [0f32];
            let mut b = [0f32];
            Kernels::portable().matmul(&m, &acts, &mut a, None);
            Kernels::detect().matmul(&m, &acts, &mut b, None);
            assert!(
                (a[0] - b[0]).abs() < 1e-3,
                "{dtype:?}: {} vs {}",
                a[0],
                b[0]
            );
            assert!(
                (a[0] - exact).abs() < 0.05 * exact.abs().max(1.0),
                "{dtype:?}: {} vs {exact}",
                a[0]
            );
        }
    }

    /// Test-only quantization of one row (ggml's reference rounding).
    fn encode(w: &[f32], dtype: DType) -> Vec<u8> {
        let mut out = Vec::new();
        for c in w.chunks_exact(QK) {
            match dtype {
                DType::Q8_0 => {
                    let amax = c.iter().fold(0f32, |m, v| m.max(v.abs()));
                    let d = amax / 127.0;
                    out.extend(f16::from_f32(d).to_le_bytes());
                    out.extend(c.iter().map(|v| (v / d).round() as i8 as u8));
                }
                DType::Q4_1 => {
                    let (mn, mx) = c
                        .iter()
                        .fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
                    let d = (mx - mn) / 15.0;
                    out.extend(f16::from_f32(d).to_le_bytes());
                    out.extend(f16::from_f32(mn).to_le_bytes());
                    for j in 0..16 {
                        let q = |v: f32| (((v - mn) / d).round() as u8).min(15);
                        out.push(q(c[j]) | (q(c[j + 16]) << 4));
                    }
                }
                DType::Q4_0 => {
                    let max = c
                        .iter()
                        .fold(0f32, |m, v| if v.abs() > m.abs() { *v } else { m });
                    let d = max / -8.0;
                    out.extend(f16::from_f32(d).to_le_bytes());
                    for j in 0..16 {
                        let q = |v: f32| (((v / d) + 8.5) as u8).min(15);
                        out.push(q(c[j]) | (q(c[j + 16]) << 4));
                    }
                }
                _ => unreachable!(),
            }
        }
        out
    }
}
