//! The paper's difficulty probe: a two-layer MLP that reads a model's
//! hidden state of a problem's prompt and predicts the pass rate λ of the
//! policy's samples, trained with binary cross-entropy against the observed
//! pass rates (soft labels).
//!
//! Problems are few (tens to hundreds) and hidden states are wide (576 for
//! SmolLM2), so the probe is small (one hidden layer of 32 ReLU units),
//! standardises its inputs on the training set, and uses weight decay.
//! [`cross_fit`] gives every problem a prediction from a probe that never
//! saw it (k-fold), which is both the honest way to measure the probe
//! (held-out Spearman) and the way to use it for allocation on the same
//! pool without leaking a problem's own label into its budget.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct ProbeConfig {
    /// Hidden units.
    pub hidden: usize,
    /// Full-batch Adam steps.
    pub epochs: usize,
    /// Adam step size.
    pub lr: f64,
    /// L2 penalty on the weights.
    pub weight_decay: f64,
    /// Seed of the initial weights.
    pub seed: u64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            hidden: 32,
            epochs: 400,
            lr: 3e-3,
            weight_decay: 1e-2,
            seed: 0,
        }
    }
}

/// A trained probe.
#[derive(Debug, Clone)]
pub struct Probe {
    mean: Vec<f64>,
    scale: Vec<f64>,
    w1: Vec<Vec<f64>>,
    b1: Vec<f64>,
    w2: Vec<f64>,
    b2: f64,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Probe {
    /// Trains on hidden states `x` and pass rates `y` (each in [0, 1]).
    pub fn train(x: &[Vec<f32>], y: &[f64], cfg: ProbeConfig) -> Probe {
        let n = x.len();
        let d = x.first().map_or(0, Vec::len);
        let mut mean = vec![0.0; d];
        let mut scale = vec![0.0; d];
        for row in x {
            for (k, &v) in row.iter().enumerate() {
                mean[k] += f64::from(v) / n.max(1) as f64;
            }
        }
        for row in x {
            for (k, &v) in row.iter().enumerate() {
                scale[k] += (f64::from(v) - mean[k]).powi(2) / n.max(1) as f64;
            }
        }
        for s in &mut scale {
            *s = s.sqrt().max(1e-6);
        }
        let z: Vec<Vec<f64>> = x
            .iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(k, &v)| (f64::from(v) - mean[k]) / scale[k])
                    .collect()
            })
            .collect();
        let h = cfg.hidden;
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let bound = (6.0 / (d + h) as f64).sqrt();
        let mut w1: Vec<Vec<f64>> = (0..h)
            .map(|_| (0..d).map(|_| rng.random_range(-bound..bound)).collect())
            .collect();
        let mut b1 = vec![0.0; h];
        let bound2 = (6.0 / (h + 1) as f64).sqrt();
        let mut w2: Vec<f64> = (0..h).map(|_| rng.random_range(-bound2..bound2)).collect();
        let mean_y = y.iter().sum::<f64>() / n.max(1) as f64;
        let mut b2 = (mean_y.clamp(0.02, 0.98) / (1.0 - mean_y.clamp(0.02, 0.98))).ln();

        // Adam state, one slot per parameter, in the order w1, b1, w2, b2.
        let count = h * d + h + h + 1;
        let (mut m, mut v) = (vec![0.0; count], vec![0.0; count]);
        let (beta1, beta2, eps) = (0.9, 0.999, 1e-8);
        for step in 1..=cfg.epochs {
            let mut g_w1 = vec![vec![0.0; d]; h];
            let mut g_b1 = vec![0.0; h];
            let mut g_w2 = vec![0.0; h];
            let mut g_b2 = 0.0;
            for (zi, &yi) in z.iter().zip(y) {
                let pre: Vec<f64> = (0..h)
                    .map(|j| b1[j] + w1[j].iter().zip(zi).map(|(a, b)| a * b).sum::<f64>())
                    .collect();
                let act: Vec<f64> = pre.iter().map(|&p| p.max(0.0)).collect();
                let p = sigmoid(b2 + w2.iter().zip(&act).map(|(a, b)| a * b).sum::<f64>());
                // d(BCE)/d(logit) = p - y.
                let dl = (p - yi) / n as f64;
                g_b2 += dl;
                for j in 0..h {
                    g_w2[j] += dl * act[j];
                    if pre[j] > 0.0 {
                        let dj = dl * w2[j];
                        g_b1[j] += dj;
                        for (g, &zk) in g_w1[j].iter_mut().zip(zi) {
                            *g += dj * zk;
                        }
                    }
                }
            }
            let mut k = 0;
            let mut adam = |param: &mut f64, grad: f64, decay: bool| {
                let g = grad
                    + if decay {
                        cfg.weight_decay * *param
                    } else {
                        0.0
                    };
                m[k] = beta1 * m[k] + (1.0 - beta1) * g;
                v[k] = beta2 * v[k] + (1.0 - beta2) * g * g;
                let mh = m[k] / (1.0 - beta1.powi(step as i32));
                let vh = v[k] / (1.0 - beta2.powi(step as i32));
                *param -= cfg.lr * mh / (vh.sqrt() + eps);
                k += 1;
            };
            for j in 0..h {
                for c in 0..d {
                    adam(&mut w1[j][c], g_w1[j][c], true);
                }
            }
            for j in 0..h {
                adam(&mut b1[j], g_b1[j], false);
            }
            for j in 0..h {
                adam(&mut w2[j], g_w2[j], true);
            }
            adam(&mut b2, g_b2, false);
        }
        Probe {
            mean,
            scale,
            w1,
            b1,
            w2,
            b2,
        }
    }

    /// The predicted pass rate for one hidden state.
    pub fn predict(&self, x: &[f32]) -> f64 {
        let z: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(k, &v)| (f64::from(v) - self.mean[k]) / self.scale[k])
            .collect();
        let logit = self.b2
            + (0..self.b1.len())
                .map(|j| {
                    let pre =
                        self.b1[j] + self.w1[j].iter().zip(&z).map(|(a, b)| a * b).sum::<f64>();
                    self.w2[j] * pre.max(0.0)
                })
                .sum::<f64>();
        sigmoid(logit)
    }
}

/// Held-out predictions: the problems are split into `folds` seeded folds,
/// and each problem is predicted by a probe trained on the other folds.
pub fn cross_fit(x: &[Vec<f32>], y: &[f64], folds: usize, cfg: ProbeConfig) -> Vec<f64> {
    let n = x.len();
    let folds = folds.clamp(2, n.max(2));
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5eed));
    let mut out = vec![0.0; n];
    for f in 0..folds {
        let test: Vec<usize> = order.iter().copied().skip(f).step_by(folds).collect();
        let train: Vec<usize> = order
            .iter()
            .copied()
            .filter(|i| !test.contains(i))
            .collect();
        if train.is_empty() {
            continue;
        }
        let tx: Vec<Vec<f32>> = train.iter().map(|&i| x[i].clone()).collect();
        let ty: Vec<f64> = train.iter().map(|&i| y[i]).collect();
        let probe = Probe::train(&tx, &ty, cfg);
        for &i in &test {
            out[i] = probe.predict(&x[i]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::spearman;

    /// Pass rates that depend on a direction in a noisy 40-dim space.
    fn synthetic(n: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let row: Vec<f32> = (0..40).map(|_| rng.random_range(-1.0..1.0)).collect();
            let signal = f64::from(row[0] + 0.5 * row[1]);
            y.push(sigmoid(3.0 * signal));
            x.push(row);
        }
        (x, y)
    }

    #[test]
    fn the_probe_learns_a_real_signal_held_out() {
        let (x, y) = synthetic(120, 1);
        let pred = cross_fit(&x, &y, 5, ProbeConfig::default());
        let rho = spearman(&pred, &y);
        assert!(rho > 0.6, "held-out Spearman {rho}");
    }

    #[test]
    fn the_probe_finds_nothing_in_noise() {
        let (x, _) = synthetic(120, 2);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let y: Vec<f64> = (0..x.len()).map(|_| rng.random_range(0.0..1.0)).collect();
        let pred = cross_fit(&x, &y, 5, ProbeConfig::default());
        let rho = spearman(&pred, &y);
        assert!(rho.abs() < 0.35, "held-out Spearman on noise {rho}");
    }
}
