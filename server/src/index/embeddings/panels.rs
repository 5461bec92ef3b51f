//! The encoder's linear layers on the vector units in f32, where the CPU has
//! no AMX tiles: weights laid out once in panels of 16 outputs, and a
//! register-blocked kernel for AVX-512 or for AVX2 with FMA.
//!
//! `matrixmultiply`, which these layers ran on before (and the attention
//! products still do), packs both operands into its own layout on every
//! call — 12% of the forward pass in a profile — and is written for any
//! shape. A linear layer's weight never changes, so it is packed once at
//! load: panel `p` holds outputs `16p..16p+16` for every input, 16
//! consecutive floats per input (one AVX-512 register, two AVX2 ones). The
//! kernel keeps a block of output rows × panels in registers (12 rows × 2
//! panels on AVX-512: 24 of its 32 registers; 6 rows × 1 panel on AVX2: 12
//! of 16), starts them at the bias, and for each input broadcasts one
//! activation of each row, straight from the row-major activations,
//! against the panels' 16-wide rows. Every product is an f32 fused
//! multiply-add summed in input order, so the results are f32's, as the
//! model card's similarities need (int8 or bf16 products would be faster
//! and move the embeddings by ~1e-3 in cosine). Measured on the whole
//! forward pass: +17% papers/s against `matrixmultiply`'s AVX-512 kernel,
//! +19% against its AVX2 one (bench/RESULTS.md, session 18); the AVX-512
//! kernel does ~140 GFLOP/s on one core of today's Xeon.
//!
//! Outputs are taken a panel group at a time outside and rows inside, so a
//! group's weights (at most 196 KB for 1,536 inputs) are read from L2 by
//! every row block. The packed copy costs the weights' size in memory (42
//! MB for all-MiniLM-L6-v2, as the tiles' copy does) for as long as the
//! model is loaded; an idle model is let go. Without AVX2 and FMA, or with `PAPER_LS_PANELS=0` in the
//! environment, the caller keeps `matrixmultiply`.

use super::mapped::MappedBuffer;

/// Outputs in one panel: one AVX-512 register of f32.
const PANEL: usize = 16;

/// The instruction set a packed weight's kernel runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// 12 rows × 2 panels per block.
    Avx512,
    /// 6 rows × 1 panel per block.
    Avx2,
}

impl Kernel {
    /// The widest kernel this CPU runs, asked once per process;
    /// `PAPER_LS_PANELS=0` keeps `matrixmultiply`, `PAPER_LS_PANELS=avx2`
    /// the AVX2 kernel on a CPU with AVX-512 (to measure it).
    pub fn for_this_cpu() -> Option<Kernel> {
        static KERNEL: std::sync::OnceLock<Option<Kernel>> = std::sync::OnceLock::new();
        *KERNEL.get_or_init(|| {
            let asked = std::env::var("PAPER_LS_PANELS").unwrap_or_default();
            let kernel = match (asked.as_str(), detect()) {
                ("0", _) => None,
                ("avx2", Some(_)) => Some(Kernel::Avx2),
                (_, detected) => detected,
            };
            tracing::debug!("f32 panels for the embedding model: {kernel:?}");
            kernel
        })
    }

    /// Panels one block of the kernel covers.
    fn panels(self) -> usize {
        match self {
            Kernel::Avx512 => 2,
            Kernel::Avx2 => 1,
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn detect() -> Option<Kernel> {
    if std::arch::is_x86_feature_detected!("avx512f") {
        Some(Kernel::Avx512)
    } else if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
    {
        Some(Kernel::Avx2)
    } else {
        None
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> Option<Kernel> {
    None
}

/// A linear layer's weight (`[outputs × inputs]`, as PyTorch stores it)
/// laid out in panels of 16 outputs, each `inputs` rows of 16 floats.
pub struct PanelWeight {
    panels: MappedBuffer<f32>,
    inputs: usize,
    outputs: usize,
    kernel: Kernel,
}

impl PanelWeight {
    /// `None` when the shape does not fall into whole blocks of panels
    /// (outputs a multiple of 32 on AVX-512, of 16 on AVX2): that layer
    /// stays on `matrixmultiply`.
    pub fn pack(
        weight: &[f32],
        outputs: usize,
        inputs: usize,
        kernel: Kernel,
    ) -> Option<PanelWeight> {
        if outputs == 0
            || inputs == 0
            || !outputs.is_multiple_of(PANEL * kernel.panels())
            || weight.len() != outputs * inputs
        {
            return None;
        }
        let mut panels = MappedBuffer::<f32>::zeroed(outputs * inputs);
        for (output, row) in weight.chunks_exact(inputs).enumerate() {
            let (panel, lane) = (output / PANEL, output % PANEL);
            for (input, &w) in row.iter().enumerate() {
                panels[(panel * inputs + input) * PANEL + lane] = w;
            }
        }
        Some(PanelWeight {
            panels,
            inputs,
            outputs,
            kernel,
        })
    }
}

/// `out[n × outputs] = input[n × inputs] · weightᵀ + bias`.
pub fn linear(weight: &PanelWeight, bias: &[f32], input: &[f32], n: usize, out: &mut [f32]) {
    let (inputs, outputs) = (weight.inputs, weight.outputs);
    assert!(input.len() == n * inputs && out.len() == n * outputs && bias.len() == outputs);
    if n == 0 {
        return;
    }
    let per_group = PANEL * weight.kernel.panels();
    for group in 0..outputs / per_group {
        let first_output = group * per_group;
        let operands = Block {
            input: input.as_ptr(),
            inputs,
            panels: weight.panels[first_output * inputs..].as_ptr(),
            bias: bias[first_output..].as_ptr(),
            out: out[first_output..].as_mut_ptr(),
            outputs,
        };
        // SAFETY: `kernel` was chosen by `detect`, so the CPU has the
        // features its block functions are compiled for; every read lies
        // within `input` (n × inputs), the group's panels or its bias, and
        // every write within the group's columns of `out` (n × outputs).
        unsafe {
            match weight.kernel {
                Kernel::Avx512 => x86::rows_avx512(&operands, n),
                Kernel::Avx2 => x86::rows_avx2(&operands, n),
            }
        }
    }
}

/// One panel group's operands: the first row of the input and of the
/// output, the group's first panel and first bias.
struct Block {
    input: *const f32,
    inputs: usize,
    panels: *const f32,
    bias: *const f32,
    out: *mut f32,
    outputs: usize,
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Block, PANEL};
    use std::arch::x86_64::*;

    /// Every row of one panel group on AVX-512: 12 rows at a time, then
    /// the rest in one smaller block.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn rows_avx512(b: &Block, n: usize) {
        let mut row = 0;
        while row + 12 <= n {
            block_avx512::<12>(b, row);
            row += 12;
        }
        match n - row {
            0 => {}
            1 => block_avx512::<1>(b, row),
            2 => block_avx512::<2>(b, row),
            3 => block_avx512::<3>(b, row),
            4 => block_avx512::<4>(b, row),
            5 => block_avx512::<5>(b, row),
            6 => block_avx512::<6>(b, row),
            7 => block_avx512::<7>(b, row),
            8 => block_avx512::<8>(b, row),
            9 => block_avx512::<9>(b, row),
            10 => block_avx512::<10>(b, row),
            _ => block_avx512::<11>(b, row),
        }
    }

    /// `R` rows from `row` × two panels, the 2·R sums in registers.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn block_avx512<const R: usize>(b: &Block, row: usize) {
        let second = b.inputs * PANEL;
        let bias = [_mm512_loadu_ps(b.bias), _mm512_loadu_ps(b.bias.add(PANEL))];
        let mut sums = [[bias[0], bias[1]]; R];
        let input = b.input.add(row * b.inputs);
        for k in 0..b.inputs {
            let w = b.panels.add(k * PANEL);
            let (w0, w1) = (_mm512_loadu_ps(w), _mm512_loadu_ps(w.add(second)));
            for (r, sum) in sums.iter_mut().enumerate() {
                let a = _mm512_set1_ps(*input.add(r * b.inputs + k));
                sum[0] = _mm512_fmadd_ps(a, w0, sum[0]);
                sum[1] = _mm512_fmadd_ps(a, w1, sum[1]);
            }
        }
        for (r, sum) in sums.iter().enumerate() {
            let out = b.out.add((row + r) * b.outputs);
            _mm512_storeu_ps(out, sum[0]);
            _mm512_storeu_ps(out.add(PANEL), sum[1]);
        }
    }

    /// Every row of one panel on AVX2: 6 rows at a time, then the rest.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn rows_avx2(b: &Block, n: usize) {
        let mut row = 0;
        while row + 6 <= n {
            block_avx2::<6>(b, row);
            row += 6;
        }
        match n - row {
            0 => {}
            1 => block_avx2::<1>(b, row),
            2 => block_avx2::<2>(b, row),
            3 => block_avx2::<3>(b, row),
            4 => block_avx2::<4>(b, row),
            _ => block_avx2::<5>(b, row),
        }
    }

    /// `R` rows from `row` × one panel (two 8-lane halves).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn block_avx2<const R: usize>(b: &Block, row: usize) {
        let bias = [_mm256_loadu_ps(b.bias), _mm256_loadu_ps(b.bias.add(8))];
        let mut sums = [[bias[0], bias[1]]; R];
        let input = b.input.add(row * b.inputs);
        for k in 0..b.inputs {
            let w = b.panels.add(k * PANEL);
            let (w0, w1) = (_mm256_loadu_ps(w), _mm256_loadu_ps(w.add(8)));
            for (r, sum) in sums.iter_mut().enumerate() {
                let a = _mm256_set1_ps(*input.add(r * b.inputs + k));
                sum[0] = _mm256_fmadd_ps(a, w0, sum[0]);
                sum[1] = _mm256_fmadd_ps(a, w1, sum[1]);
            }
        }
        for (r, sum) in sums.iter().enumerate() {
            let out = b.out.add((row + r) * b.outputs);
            _mm256_storeu_ps(out, sum[0]);
            _mm256_storeu_ps(out.add(8), sum[1]);
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod x86 {
    use super::Block;
    pub unsafe fn rows_avx512(_: &Block, _: usize) {
        unreachable!("the panels are x86_64 only; for_this_cpu() is None elsewhere")
    }
    pub unsafe fn rows_avx2(_: &Block, _: usize) {
        unreachable!("the panels are x86_64 only; for_this_cpu() is None elsewhere")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::embeddings::amx::tests::{numbers, worst_relative_error};

    /// The kernels this machine can run: each is tested where it can be.
    fn kernels_here() -> Vec<Kernel> {
        // A CPU with AVX-512 runs the AVX2 kernel too.
        match detect() {
            Some(Kernel::Avx512) => vec![Kernel::Avx512, Kernel::Avx2],
            Some(Kernel::Avx2) => vec![Kernel::Avx2],
            None => Vec::new(),
        }
    }

    #[test]
    fn panel_products_equal_f64_ones_to_f32_accuracy() {
        let kernels = kernels_here();
        if kernels.is_empty() {
            eprintln!("no AVX2 here: the panels are not tested on this machine");
            return;
        }
        for kernel in kernels {
            // Every remainder of rows after whole blocks, as a sequence's
            // tokens fall.
            let every_remainder = (1..=13).map(|n| (n, 16, 64));
            for (n, inputs, outputs) in every_remainder.chain([
                (37, 384, 384),
                (1, 8, 32),
                (12, 1536, 384),
                (50, 384, 1536),
                (11, 5, 64),
                (6, 384, 32),
                (29, 3, 32),
            ]) {
                let weight = numbers(outputs * inputs, 7);
                let bias = numbers(outputs, 8);
                let input = numbers(n * inputs, 9);
                let packed = PanelWeight::pack(&weight, outputs, inputs, kernel).unwrap();
                let mut out = vec![f32::NAN; n * outputs];
                linear(&packed, &bias, &input, n, &mut out);
                let worst = worst_relative_error(&out, &input, &weight, &bias, n);
                assert!(
                    worst < 2e-6,
                    "{kernel:?} {n}×{inputs}→{outputs}: relative error {worst:e}"
                );
            }
        }
    }

    #[test]
    fn shapes_that_are_not_whole_blocks_stay_on_matrixmultiply() {
        assert!(PanelWeight::pack(&[0.0; 48 * 8], 48, 8, Kernel::Avx512).is_none());
        assert!(PanelWeight::pack(&[0.0; 48 * 8], 48, 8, Kernel::Avx2).is_some());
        assert!(PanelWeight::pack(&[0.0; 24 * 8], 24, 8, Kernel::Avx2).is_none());
        assert!(PanelWeight::pack(&[0.0; 64 * 8], 64, 7, Kernel::Avx512).is_none());
    }
}
