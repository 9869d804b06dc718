//! Picking the next token: greedy at temperature 0, else llama.cpp's chain
//! — nucleus (top-p) on the raw distribution, then temperature, then a
//! seeded draw — so sample `k` of a prompt is the same whenever it is
//! drawn.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A sampler for one sample.
pub(crate) enum Sampler {
    Greedy,
    Nucleus {
        top_p: f32,
        temperature: f32,
        rng: Box<ChaCha8Rng>,
    },
}

impl Sampler {
    /// The sampler of a request's settings, seeded for one sample.
    pub(crate) fn new(temperature: f64, top_p: f64, seed: u64) -> Sampler {
        if temperature <= 0.0 {
            return Sampler::Greedy;
        }
        Sampler::Nucleus {
            top_p: top_p as f32,
            temperature: temperature as f32,
            rng: Box::new(ChaCha8Rng::seed_from_u64(seed)),
        }
    }

    /// The next token from `logits`.
    pub(crate) fn pick(&mut self, logits: &[f32]) -> u32 {
        let argmax = || {
            logits
                .iter()
                .enumerate()
                .fold((0usize, f32::NEG_INFINITY), |(bi, bv), (i, v)| {
                    if *v > bv {
                        (i, *v)
                    } else {
                        (bi, bv)
                    }
                })
                .0 as u32
        };
        let Sampler::Nucleus {
            top_p,
            temperature,
            rng,
        } = self
        else {
            return argmax();
        };
        let mut order: Vec<(u32, f32)> = logits
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, v)| (i as u32, *v))
            .collect();
        if order.is_empty() {
            return argmax();
        }
        order.sort_by(|a, b| b.1.total_cmp(&a.1));
        // Nucleus on the untempered distribution.
        let max = order[0].1;
        let probs: Vec<f64> = order
            .iter()
            .map(|(_, v)| f64::from(v - max).exp())
            .collect();
        let total: f64 = probs.iter().sum();
        let mut keep = 0;
        let mut mass = 0.0;
        for p in &probs {
            keep += 1;
            mass += p / total;
            if mass >= f64::from(*top_p) {
                break;
            }
        }
        order.truncate(keep.max(1));
        // Temperature, then a draw.
        let weights: Vec<f64> = order
            .iter()
            .map(|(_, v)| f64::from((v - max) / *temperature).exp())
            .collect();
        let sum: f64 = weights.iter().sum();
        let mut r = rng.random_range(0.0..sum);
        for ((tok, _), w) in order.iter().zip(&weights) {
            if r < *w {
                return *tok;
            }
            r -= w;
        }
        order[order.len() - 1].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_the_first_best_and_seeds_repeat() {
        let logits = [0.5, 2.0, 2.0, -1.0];
        assert_eq!(Sampler::new(0.0, 1.0, 0).pick(&logits), 1);
        let draw = |seed| {
            let mut s = Sampler::new(1.0, 0.95, seed);
            (0..20).map(|_| s.pick(&logits)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert!(draw(7).iter().all(|&t| t != 3), "top-p drops the tail");
        let mut narrow = Sampler::new(1.0, 0.01, 3);
        assert!((0..20).all(|_| [1, 2].contains(&narrow.pick(&logits))));
    }
}
