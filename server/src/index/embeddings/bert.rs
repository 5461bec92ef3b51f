//! The forward pass of a BERT encoder over one sequence, on the CPU, in f32:
//! embeddings, then per layer self-attention and the feed-forward block, each
//! followed by a residual layer norm; then mean pooling and L2 normalisation
//! as sentence-transformers models were trained.
//!
//! One sequence at a time, unpadded: a sequence's matrices are already tall
//! enough (tens to hundreds of tokens × 384) for the matrix products to run
//! near the machine's peak, there is no attention mask to apply, and no work
//! is spent on padding. Parallelism is one sequence per core (the caller's
//! threads), each with its own `Scratch`, so nothing is shared but the
//! read-only weights and nothing is allocated per token. The linear layers
//! run on AMX tiles (`amx`) or on our f32 kernel for the vector units
//! (`panels`), whichever the CPU has, else on `matrixmultiply`, as do the
//! attention products; the element-wise steps (GELU, softmax, layer norm)
//! are written as plain loops the compiler vectorises.

use super::safetensors::{TensorInfo, Tensors};
use super::{amx, panels};
use anyhow::{anyhow, bail, Context};
use std::path::Path;

#[derive(Clone, Debug)]
pub struct BertConfig {
    pub hidden: usize,
    pub heads: usize,
    pub layers: usize,
    pub intermediate: usize,
    pub max_positions: usize,
    pub layer_norm_eps: f32,
    /// GELU by erf (`gelu`) or by tanh (`gelu_new`, `gelu_pytorch_tanh`).
    pub gelu_tanh: bool,
}

impl BertConfig {
    pub fn from_json(text: &str) -> anyhow::Result<BertConfig> {
        let json: serde_json::Value =
            serde_json::from_str(text).context("config.json is not JSON")?;
        let number = |name: &str| {
            json[name]
                .as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| anyhow!("config.json has no {name}"))
        };
        let model_type = json["model_type"].as_str().unwrap_or("bert");
        if !matches!(model_type, "bert") {
            bail!("the model is a {model_type}; only BERT-family models are supported");
        }
        if let Some(kind) = json["position_embedding_type"].as_str() {
            if kind != "absolute" {
                bail!("position embeddings of type {kind} are not supported");
            }
        }
        let gelu_tanh = match json["hidden_act"].as_str().unwrap_or("gelu") {
            "gelu" => false,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => true,
            other => bail!("the activation {other} is not supported"),
        };
        let config = BertConfig {
            hidden: number("hidden_size")?,
            heads: number("num_attention_heads")?,
            layers: number("num_hidden_layers")?,
            intermediate: number("intermediate_size")?,
            max_positions: number("max_position_embeddings")?,
            layer_norm_eps: json["layer_norm_eps"].as_f64().unwrap_or(1e-12) as f32,
            gelu_tanh,
        };
        if config.heads == 0 || !config.hidden.is_multiple_of(config.heads) || config.layers == 0 {
            bail!("config.json: hidden_size must be a multiple of num_attention_heads");
        }
        Ok(config)
    }
}

/// A linear layer as PyTorch stores it: weight `[out × in]`, bias `[out]`.
struct Linear {
    weight: TensorInfo,
    bias: TensorInfo,
    inputs: usize,
    outputs: usize,
    /// The weight laid out for this CPU's fastest f32-accurate product.
    packed: Packed,
}

/// Where a linear layer's products run.
enum Packed {
    /// AMX tiles, where this process can use them.
    Tiles(amx::PackedWeight),
    /// Our AVX-512 or AVX2 kernel, on CPUs without AMX.
    Panels(panels::PanelWeight),
    /// `matrixmultiply`: other CPUs and shapes.
    Plain,
}

impl Packed {
    /// The fastest of the three this process may use for the weight.
    fn fastest(weight: &[f32], outputs: usize, inputs: usize) -> Packed {
        if amx::available() {
            if let Some(tiles) = amx::PackedWeight::pack(weight, outputs, inputs) {
                return Packed::Tiles(tiles);
            }
        }
        Packed::on_vector_units(weight, outputs, inputs)
    }

    fn on_vector_units(weight: &[f32], outputs: usize, inputs: usize) -> Packed {
        panels::Kernel::for_this_cpu()
            .and_then(|kernel| panels::PanelWeight::pack(weight, outputs, inputs, kernel))
            .map_or(Packed::Plain, Packed::Panels)
    }
}

struct Norm {
    gain: TensorInfo,
    bias: TensorInfo,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    intermediate: Linear,
    output: Linear,
    output_norm: Norm,
}

pub struct Bert {
    pub config: BertConfig,
    tensors: Tensors,
    words: TensorInfo,
    positions: TensorInfo,
    token_types: Option<TensorInfo>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
}

/// Buffers for one sequence's forward pass, reused across sequences.
///
/// They live in pages of their own (anonymous mappings) rather than the
/// allocator's heap. Freed there, they end in the top of the thread's glibc
/// arena, which `malloc_trim` does not shrink and `free` shrinks only past a
/// threshold glibc raises to twice the largest buffer it has unmapped: ~10
/// MB stayed resident per arena the work passed through (+27 MB of RSS
/// after 600 papers, back to +4 with these mappings).
#[derive(Default)]
pub struct Scratch {
    x: Floats,
    q: Floats,
    k: Floats,
    v: Floats,
    context: Floats,
    scores: Floats,
    wide: Floats,
    narrow: Floats,
    tiles: amx::TileScratch,
}

/// A float buffer given back to the system whole when dropped or grown.
type Floats = super::mapped::MappedBuffer<f32>;

impl Bert {
    pub fn load(config: BertConfig, weights: &Path) -> anyhow::Result<Bert> {
        let tensors = Tensors::open(weights)?;
        let prefix = if tensors.info("embeddings.word_embeddings.weight").is_some() {
            ""
        } else if tensors
            .info("bert.embeddings.word_embeddings.weight")
            .is_some()
        {
            "bert."
        } else {
            bail!(
                "{} has no BERT embeddings (embeddings.word_embeddings.weight)",
                weights.display()
            );
        };
        let h = config.hidden;
        let tensor = |name: &str, shape: &[usize]| -> anyhow::Result<TensorInfo> {
            let full = format!("{prefix}{name}");
            let info = tensors
                .info(&full)
                .ok_or_else(|| anyhow!("{} has no tensor {full}", weights.display()))?;
            if info.shape != shape {
                bail!(
                    "tensor {full} has shape {:?}, expected {shape:?}",
                    info.shape
                );
            }
            Ok(info.clone())
        };
        let linear = |name: &str, inputs: usize, outputs: usize| -> anyhow::Result<Linear> {
            let weight = tensor(&format!("{name}.weight"), &[outputs, inputs])?;
            let packed = Packed::fastest(tensors.values(&weight), outputs, inputs);
            Ok(Linear {
                weight,
                bias: tensor(&format!("{name}.bias"), &[outputs])?,
                inputs,
                outputs,
                packed,
            })
        };
        let norm = |name: &str| -> anyhow::Result<Norm> {
            Ok(Norm {
                gain: tensor(&format!("{name}.weight"), &[h])?,
                bias: tensor(&format!("{name}.bias"), &[h])?,
            })
        };
        let words_info = tensors
            .info(&format!("{prefix}embeddings.word_embeddings.weight"))
            .cloned()
            .ok_or_else(|| anyhow!("no word embeddings"))?;
        if words_info.shape.len() != 2 || words_info.shape[1] != h {
            bail!(
                "the word embeddings have shape {:?}, not [vocabulary × {h}]",
                words_info.shape
            );
        }
        let token_types = tensors
            .info(&format!("{prefix}embeddings.token_type_embeddings.weight"))
            .filter(|t| t.shape.len() == 2 && t.shape[1] == h && t.shape[0] > 0)
            .cloned();
        let mut layers = Vec::with_capacity(config.layers);
        for l in 0..config.layers {
            let at = |part: &str| format!("encoder.layer.{l}.{part}");
            layers.push(Layer {
                query: linear(&at("attention.self.query"), h, h)?,
                key: linear(&at("attention.self.key"), h, h)?,
                value: linear(&at("attention.self.value"), h, h)?,
                attention_out: linear(&at("attention.output.dense"), h, h)?,
                attention_norm: norm(&at("attention.output.LayerNorm"))?,
                intermediate: linear(&at("intermediate.dense"), h, config.intermediate)?,
                output: linear(&at("output.dense"), config.intermediate, h)?,
                output_norm: norm(&at("output.LayerNorm"))?,
            });
        }
        Ok(Bert {
            words: words_info,
            positions: tensor(
                "embeddings.position_embeddings.weight",
                &[config.max_positions, h],
            )?,
            token_types,
            embedding_norm: norm("embeddings.LayerNorm")?,
            layers,
            config,
            tensors,
        })
    }

    /// The same model with every matrix product on the vector units (f32),
    /// as on a CPU without AMX: for tests of the paths against each other.
    #[cfg(test)]
    pub fn without_tiles(mut self) -> Bert {
        self.repack(|weight, linear| {
            Packed::on_vector_units(weight, linear.outputs, linear.inputs)
        });
        self
    }

    /// The same model with every linear layer on `matrixmultiply`, as on a
    /// CPU without AVX2.
    #[cfg(test)]
    pub fn on_matrixmultiply(mut self) -> Bert {
        self.repack(|_, _| Packed::Plain);
        self
    }

    #[cfg(test)]
    fn repack(&mut self, pack: impl Fn(&[f32], &Linear) -> Packed) {
        for layer in &mut self.layers {
            for linear in [
                &mut layer.query,
                &mut layer.key,
                &mut layer.value,
                &mut layer.attention_out,
                &mut layer.intermediate,
                &mut layer.output,
            ] {
                linear.packed = pack(self.tensors.values(&linear.weight), linear);
            }
        }
    }

    pub fn vocabulary_size(&self) -> usize {
        self.words.shape[0]
    }

    /// The sentence embedding of one tokenized sequence (at most
    /// `max_positions` ids are read): the mean of the last layer's token
    /// vectors, L2-normalised, written to `out` (`hidden` long).
    pub fn embed(&self, ids: &[u32], scratch: &mut Scratch, out: &mut [f32]) {
        let h = self.config.hidden;
        out.fill(0.0);
        let n = self.encode(ids, scratch);
        for row in scratch.x[..n * h].chunks_exact(h) {
            add(out, row);
        }
        // The mean's 1/n cancels in the normalisation.
        normalize(out);
    }

    /// The sentence embedding as the first token's (`[CLS]`) last-layer
    /// vector, L2-normalised, for models pooled that way.
    pub fn embed_first_token(&self, ids: &[u32], scratch: &mut Scratch, out: &mut [f32]) {
        out.fill(0.0);
        if self.encode(ids, scratch) > 0 {
            out.copy_from_slice(&scratch.x[..self.config.hidden]);
        }
        normalize(out);
    }

    /// Runs the encoder; the last layer's token vectors are left in
    /// `scratch.x`, one row of `hidden` per token. Returns the token count.
    fn encode(&self, ids: &[u32], scratch: &mut Scratch) -> usize {
        let h = self.config.hidden;
        let n = ids.len().min(self.config.max_positions);
        if n == 0 {
            return 0;
        }
        let t = &self.tensors;
        let x = scratch.x.first(n * h);
        let words = t.values(&self.words);
        let positions = t.values(&self.positions);
        let token_type = self.token_types.as_ref().map(|info| &t.values(info)[..h]);
        let last_word = self.vocabulary_size() - 1;
        for (row, (&id, x)) in ids.iter().zip(x.chunks_exact_mut(h)).enumerate() {
            let id = (id as usize).min(last_word);
            let word = &words[id * h..(id + 1) * h];
            let position = &positions[row * h..(row + 1) * h];
            for (i, x) in x.iter_mut().enumerate() {
                *x = word[i] + position[i] + token_type.map_or(0.0, |tt| tt[i]);
            }
        }
        self.layer_norm(x, &self.embedding_norm);
        for layer in &self.layers {
            self.layer(layer, n, scratch);
        }
        n
    }

    fn layer(&self, layer: &Layer, n: usize, s: &mut Scratch) {
        let c = &self.config;
        let h = c.hidden;
        let head = h / c.heads;
        let x = &s.x[..n * h];
        let tiles = &mut s.tiles;
        self.linear(&layer.query, x, n, s.q.first(n * h), tiles);
        self.linear(&layer.key, x, n, s.k.first(n * h), tiles);
        self.linear(&layer.value, x, n, s.v.first(n * h), tiles);
        let scores = s.scores.first(n * n);
        let context = s.context.first(n * h);
        let scale = 1.0 / (head as f32).sqrt();
        for hd in 0..c.heads {
            let offset = hd * head;
            // scores = Q_h · K_hᵀ / √d
            unsafe {
                matrixmultiply::sgemm(
                    n,
                    head,
                    n,
                    scale,
                    s.q.as_ptr().add(offset),
                    h as isize,
                    1,
                    s.k.as_ptr().add(offset),
                    1,
                    h as isize,
                    0.0,
                    scores.as_mut_ptr(),
                    n as isize,
                    1,
                );
            }
            softmax_rows(scores, n);
            // context_h = P · V_h
            unsafe {
                matrixmultiply::sgemm(
                    n,
                    n,
                    head,
                    1.0,
                    scores.as_ptr(),
                    n as isize,
                    1,
                    s.v.as_ptr().add(offset),
                    h as isize,
                    1,
                    0.0,
                    context.as_mut_ptr().add(offset),
                    h as isize,
                    1,
                );
            }
        }
        let attended = s.narrow.first(n * h);
        self.linear(&layer.attention_out, context, n, attended, &mut s.tiles);
        let x = &mut s.x[..n * h];
        add(x, attended);
        self.layer_norm(x, &layer.attention_norm);
        let wide = s.wide.first(n * c.intermediate);
        self.linear(&layer.intermediate, x, n, wide, &mut s.tiles);
        gelu_all(wide, c.gelu_tanh);
        let narrow = s.narrow.first(n * h);
        self.linear(&layer.output, wide, n, narrow, &mut s.tiles);
        add(x, narrow);
        self.layer_norm(x, &layer.output_norm);
    }

    /// out[n × outputs] = input[n × inputs] · weightᵀ + bias.
    fn linear(
        &self,
        linear: &Linear,
        input: &[f32],
        n: usize,
        out: &mut [f32],
        tiles: &mut amx::TileScratch,
    ) {
        let bias = self.tensors.values(&linear.bias);
        match &linear.packed {
            Packed::Tiles(packed) => return amx::linear(packed, bias, input, n, out, tiles),
            Packed::Panels(packed) => return panels::linear(packed, bias, input, n, out),
            Packed::Plain => {}
        }
        let weight = self.tensors.values(&linear.weight);
        for row in out.chunks_exact_mut(linear.outputs) {
            row.copy_from_slice(bias);
        }
        debug_assert_eq!(input.len(), n * linear.inputs);
        // SAFETY: the shapes were checked at load; `input` is n × inputs,
        // `weight` outputs × inputs (read transposed by its strides), `out`
        // n × outputs.
        unsafe {
            matrixmultiply::sgemm(
                n,
                linear.inputs,
                linear.outputs,
                1.0,
                input.as_ptr(),
                linear.inputs as isize,
                1,
                weight.as_ptr(),
                1,
                linear.inputs as isize,
                1.0,
                out.as_mut_ptr(),
                linear.outputs as isize,
                1,
            );
        }
    }

    fn layer_norm(&self, x: &mut [f32], norm: &Norm) {
        let gain = self.tensors.values(&norm.gain);
        let bias = self.tensors.values(&norm.bias);
        layer_norm_rows(x, gain, bias, self.config.layer_norm_eps);
    }
}

fn add(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

// The element-wise steps are a fifth of the forward pass at baseline
// width: compiled for AVX2 and AVX-512 too (`with_widest_vectors!`).
with_widest_vectors!(softmax_rows, softmax_rows_generic, (scores: &mut [f32], n: usize));
with_widest_vectors!(gelu_all, gelu_all_generic, (values: &mut [f32], tanh: bool));

with_widest_vectors!(layer_norm_rows, layer_norm_rows_generic, (x: &mut [f32], gain: &[f32], bias: &[f32], eps: f32));

#[inline(always)]
fn layer_norm_rows_generic(x: &mut [f32], gain: &[f32], bias: &[f32], eps: f32) {
    let h = gain.len();
    for row in x.chunks_exact_mut(h) {
        let mean = sum_lanes(row, |v| v) / h as f32;
        let variance = sum_lanes(row, |v| (v - mean) * (v - mean)) / h as f32;
        let inverse = 1.0 / (variance + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(gain).zip(bias) {
            *v = (*v - mean) * inverse * g + b;
        }
    }
}

#[inline(always)]
fn softmax_rows_generic(scores: &mut [f32], n: usize) {
    for row in scores.chunks_exact_mut(n) {
        softmax(row);
    }
}

#[inline(always)]
fn gelu_all_generic(values: &mut [f32], tanh: bool) {
    if tanh {
        values.iter_mut().for_each(|v| *v = gelu_tanh(*v));
    } else {
        values.iter_mut().for_each(|v| *v = gelu_erf(*v));
    }
}

fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[inline(always)]
fn softmax(row: &mut [f32]) {
    let max = max_lanes(row);
    row.iter_mut().for_each(|v| *v = fast_exp(*v - max));
    let inverse = 1.0 / sum_lanes(row, |v| v);
    row.iter_mut().for_each(|v| *v *= inverse);
}

/// Reductions in sixteen independent lanes: floating-point reductions are
/// not reassociated by the compiler, so a plain fold runs one element at a
/// time; sixteen lanes are one AVX-512 register (two AVX2 ones).
#[inline(always)]
fn sum_lanes(values: &[f32], term: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0.0f32; 16];
    let chunks = values.chunks_exact(16);
    let tail: f32 = chunks.remainder().iter().map(|&v| term(v)).sum();
    for chunk in chunks {
        for i in 0..16 {
            lanes[i] += term(chunk[i]);
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The largest value (scores are never NaN). Compared with `>` rather than
/// `f32::max`, whose NaN rule keeps the loop from being one vector maximum.
#[inline(always)]
fn max_lanes(values: &[f32]) -> f32 {
    let larger = |a: f32, b: f32| if b > a { b } else { a };
    let mut lanes = [f32::NEG_INFINITY; 16];
    let chunks = values.chunks_exact(16);
    let tail = chunks
        .remainder()
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, larger);
    for chunk in chunks {
        for i in 0..16 {
            lanes[i] = larger(lanes[i], chunk[i]);
        }
    }
    lanes.iter().copied().fold(tail, larger)
}

/// e^x for x ≤ 0 (softmax, erf), to ~1 ulp over the range that matters:
/// 2^(x·log2 e) split into an integer power (exponent bits) and a degree-6
/// polynomial of the remaining fraction. Branch-free and without
/// float-to-integer conversions (Rust's saturate, which costs compares and
/// blends per lane), so that loops of it are plain vector code.
#[inline(always)]
fn fast_exp(x: f32) -> f32 {
    let x = if x > -87.0 { x } else { -87.0 };
    let t = x * std::f32::consts::LOG2_E;
    // Round to nearest by adding 1.5·2^23: the sum's low mantissa bits are
    // then the rounded integer itself (`round` is a libm call on baseline
    // x86_64, which would stop the loop from vectorising).
    let shifted = t + 12_582_912.0;
    let whole = shifted - 12_582_912.0;
    let f = t - whole;
    // 2^f for f in [-½, ½] by the Taylor series of e^(f ln 2): the first
    // omitted term is below 1.2e-7.
    let p = 1.0
        + f * (std::f32::consts::LN_2
            + f * (0.240_226_5
                + f * (0.055_504_11
                    + f * (0.009_618_129 + f * (0.001_333_355_8 + f * 0.000_154_035_3)))));
    // round(t) in −126..=0, read from the sum's bits; its power of two
    // made by placing round(t) + 127 in the exponent.
    let power = shifted
        .to_bits()
        .wrapping_sub(0x4B40_0000)
        .wrapping_add(127)
        << 23;
    p * f32::from_bits(power)
}

/// GELU by the error function, as BERT defines it: x · Φ(x).
#[inline(always)]
fn gelu_erf(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

#[inline(always)]
fn gelu_tanh(x: f32) -> f32 {
    let inner = 0.797_884_6 * (x + 0.044_715 * x * x * x);
    // tanh(u) = 1 − 2 / (e^{2u} + 1), with e^{2u} for u ≤ 0 only.
    let e = fast_exp(-2.0 * inner.abs());
    let tanh = (1.0 - e) / (1.0 + e);
    0.5 * x * (1.0 + tanh.copysign(inner))
}

/// erf(x) to within 1.5e-7 (Abramowitz & Stegun 7.1.26).
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * fast_exp(-a * a);
    y.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_functions_agree_with_the_exact_ones() {
        for i in 0..=2000 {
            let x = -20.0 + i as f32 * 0.01;
            let exact = x.exp();
            assert!((fast_exp(x) - exact).abs() <= exact * 2e-6, "exp({x})");
        }
        for i in 0..=1000 {
            let x = -5.0 + i as f32 * 0.01;
            let exact = libm_erf(x as f64);
            assert!((erf(x) as f64 - exact).abs() < 1e-6, "erf({x})");
            let gelu = 0.5 * x as f64 * (1.0 + libm_erf(x as f64 / std::f64::consts::SQRT_2));
            assert!((gelu_erf(x) as f64 - gelu).abs() < 1e-6, "gelu({x})");
            let tanh = 0.5
                * x as f64
                * (1.0 + (0.7978845608 * (x as f64 + 0.044715 * (x as f64).powi(3))).tanh());
            assert!((gelu_tanh(x) as f64 - tanh).abs() < 1e-6, "gelu_tanh({x})");
        }
        assert_eq!(fast_exp(-1000.0), fast_exp(-87.0));
        assert!(fast_exp(-87.0) > 0.0);
    }

    /// erf by its Taylor series (|x| ≤ 3) or continued fraction, in f64.
    fn libm_erf(x: f64) -> f64 {
        let a = x.abs();
        let value = if a < 3.0 {
            let mut sum = 0.0;
            let mut term = a;
            let mut n = 0.0;
            while term.abs() > 1e-17 {
                sum += term / (2.0 * n + 1.0);
                n += 1.0;
                term *= -a * a / n;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            let mut fraction = 0.0;
            for k in (1..60).rev() {
                fraction = k as f64 / 2.0 / (a + fraction);
            }
            1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / (a + fraction)
        };
        value.copysign(x)
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let mut row = vec![1.0, 3.0, 2.0, -50.0];
        softmax(&mut row);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(row[1] > row[2] && row[2] > row[0] && row[0] > row[3]);
        let expected = 3f32.exp() / (1f32.exp() + 3f32.exp() + 2f32.exp() + (-50f32).exp());
        assert!((row[1] - expected).abs() < 1e-6);
    }
}
