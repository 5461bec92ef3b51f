//! The encoder's linear layers on Intel AMX tiles, where the CPU has them.
//!
//! A linear layer is ~80% of the forward pass's arithmetic, and on AVX-512
//! in f32 it already runs near the core's peak (`matrixmultiply`'s kernel;
//! a profile of `paper-ls embed`). AMX multiplies 16×32 by 32×16 tiles of
//! bf16 into f32 in one instruction, some sixteen times the f32 vector
//! rate. bf16 alone (8 bits of mantissa) would move the embeddings by about
//! 1e-3 in cosine, which is more than the model card's published
//! similarities allow; so each number is split into a high and a low bf16
//! (x ≈ hi + lo, 16 bits of mantissa) and three products are summed —
//! hi·hi + lo·hi + hi·lo — which is f32-accurate to ~1e-5 and still several
//! times faster than f32 on the vector units.
//!
//! The weights are split and laid out in tiles once, when the model loads
//! (bf16 pairs as `TDPBF16PS` reads them, 4 bytes a weight); the
//! activations are split per call. The instructions are written as inline
//! assembly: Rust's AMX intrinsics are not stable. AMX needs the CPU
//! (CPUID), and Linux's leave to use the tile data (`arch_prctl`), asked
//! once per process; without either — or with `PAPER_LS_AMX=0` in the
//! environment — the caller keeps its f32 path.

use super::mapped::MappedBuffer;

/// Rows and f32 columns of a result tile; rows of an operand tile.
const TILE: usize = 16;
/// bf16 values along the inner dimension in one operand tile (64 bytes).
const DEPTH: usize = 32;
/// bf16 values in one operand tile (1 KB).
const TILE_VALUES: usize = TILE * DEPTH;

/// Whether this process may use AMX's bf16 tiles: asked once.
pub fn available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        if std::env::var("PAPER_LS_AMX").is_ok_and(|v| v == "0") {
            return false;
        }
        let usable = cpu_and_os_allow();
        tracing::debug!("AMX tiles for the embedding model: {usable}");
        usable
    })
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn cpu_and_os_allow() -> bool {
    // CPUID leaf 7: EDX bit 22 is AMX-BF16, bit 24 AMX-TILE.
    let leaf7 = std::arch::x86_64::__cpuid_count(7, 0);
    let has = |bit: u32| leaf7.edx & (1 << bit) != 0;
    if !(has(22) && has(24)) {
        return false;
    }
    // Linux hands the 8 KB of tile state out on request only.
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // SAFETY: a request for a permission; it touches no memory of ours.
    let asked = unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            ARCH_REQ_XCOMP_PERM,
            XFEATURE_XTILEDATA,
        )
    };
    asked == 0
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn cpu_and_os_allow() -> bool {
    false
}

/// A linear layer's weight (`[outputs × inputs]`, as PyTorch stores it),
/// split into high and low bf16 halves and laid out in tiles: for each pair
/// of 16-output blocks and each 32-input step, four tiles side by side
/// (block 0 high, block 0 low, block 1 high, block 1 low), each 16 rows of
/// 16 outputs × 2 consecutive inputs.
pub struct PackedWeight {
    tiles: MappedBuffer<u16>,
    inputs: usize,
    outputs: usize,
}

impl PackedWeight {
    /// `None` when the shape does not fall into whole tiles (both sides a
    /// multiple of 32): that layer stays on the f32 path.
    pub fn pack(weight: &[f32], outputs: usize, inputs: usize) -> Option<PackedWeight> {
        if outputs == 0
            || inputs == 0
            || !outputs.is_multiple_of(2 * TILE)
            || !inputs.is_multiple_of(DEPTH)
            || weight.len() != outputs * inputs
        {
            return None;
        }
        let mut tiles = MappedBuffer::<u16>::zeroed(2 * outputs * inputs);
        for (output, row) in weight.chunks_exact(inputs).enumerate() {
            for (input, &w) in row.iter().enumerate() {
                let high = tile_place(output, input, inputs);
                (tiles[high], tiles[high + TILE_VALUES]) = split(w);
            }
        }
        Some(PackedWeight {
            tiles,
            inputs,
            outputs,
        })
    }
}

/// Where weight `[output][input]`'s high half lies in the packed tiles (its
/// low half is one tile further on).
fn tile_place(output: usize, input: usize, inputs: usize) -> usize {
    let (pair, half, column) = (output / (2 * TILE), (output / TILE) % 2, output % TILE);
    let (step, row, of_pair) = (input / DEPTH, (input % DEPTH) / 2, input % 2);
    let first_tile = (pair * (inputs / DEPTH) + step) * 4 + 2 * half;
    first_tile * TILE_VALUES + row * DEPTH + column * 2 + of_pair
}

/// Buffers for one thread's products, reused across calls.
#[derive(Default)]
pub struct TileScratch {
    high: MappedBuffer<u16>,
    low: MappedBuffer<u16>,
    product: MappedBuffer<f32>,
}

/// `out[n × outputs] = input[n × inputs] · weightᵀ + bias` on the tiles.
/// The caller has checked [`available`].
pub fn linear(
    weight: &PackedWeight,
    bias: &[f32],
    input: &[f32],
    n: usize,
    out: &mut [f32],
    scratch: &mut TileScratch,
) {
    let (inputs, outputs) = (weight.inputs, weight.outputs);
    assert!(input.len() == n * inputs && out.len() == n * outputs && bias.len() == outputs);
    if n == 0 {
        return;
    }
    // Rows are taken 16 at a time: the last block is padded with zeros.
    let rows = n.div_ceil(TILE) * TILE;
    let high = scratch.high.first(rows * inputs);
    let low = scratch.low.first(rows * inputs);
    for ((x, h), l) in input.iter().zip(high.iter_mut()).zip(low.iter_mut()) {
        (*h, *l) = split(*x);
    }
    high[n * inputs..].fill(0);
    low[n * inputs..].fill(0);
    let product = scratch.product.first(rows * outputs);
    let steps = inputs / DEPTH;
    // SAFETY: `available()` said the CPU has the tiles and Linux lets us
    // use them; every tile read lies within `high`/`low` (rows × inputs) or
    // `weight.tiles`, every tile written within `product` (rows × outputs).
    //
    // Output blocks outside, rows inside: a pair's weight tiles (48 KB at
    // 384 inputs, 192 KB at 1,536) are read from the core's L2 by every
    // row block, and the activations (at most ~1.5 MB for 256 tokens) stay
    // there too. Rows outside re-read the whole weight (up to 2.4 MB) per
    // 16 rows, from L3: the tile loads waited on it.
    unsafe {
        configure_tiles();
        for pair in 0..outputs / (2 * TILE) {
            let b = weight.tiles.as_ptr().add(pair * steps * 4 * TILE_VALUES);
            for block in 0..rows / TILE {
                let a_high = high.as_ptr().add(block * TILE * inputs);
                let a_low = low.as_ptr().add(block * TILE * inputs);
                let c = product
                    .as_mut_ptr()
                    .add(block * TILE * outputs + pair * 2 * TILE);
                two_result_tiles(a_high, a_low, inputs * 2, b, steps, c, outputs * 4);
            }
        }
        release_tiles();
    }
    for (row, result) in out
        .chunks_exact_mut(outputs)
        .zip(product.chunks_exact(outputs))
    {
        for ((o, p), b) in row.iter_mut().zip(result).zip(bias) {
            *o = p + b;
        }
    }
}

/// `x` as a high bf16 (rounded to nearest even) and the bf16 of what is
/// left: together 16 bits of mantissa.
#[inline(always)]
fn split(x: f32) -> (u16, u16) {
    let high = to_bf16(x);
    let rest = x - f32::from_bits((high as u32) << 16);
    (high, to_bf16(rest))
}

#[inline(always)]
fn to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    let rounded = bits.wrapping_add(0x7FFF + ((bits >> 16) & 1));
    (rounded >> 16) as u16
}

/// The tile configuration `ldtilecfg` reads: palette 1, all eight tiles
/// 16 rows of 64 bytes.
#[repr(C, align(64))]
struct TileConfig {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    bytes_per_row: [u16; 16],
    rows: [u8; 16],
}

#[cfg(target_arch = "x86_64")]
unsafe fn configure_tiles() {
    let mut config = TileConfig {
        palette: 1,
        start_row: 0,
        reserved: [0; 14],
        bytes_per_row: [0; 16],
        rows: [0; 16],
    };
    for tile in 0..8 {
        config.bytes_per_row[tile] = (DEPTH * 2) as u16;
        config.rows[tile] = TILE as u8;
    }
    std::arch::asm!("ldtilecfg [{0}]", in(reg) &config, options(nostack, readonly));
}

#[cfg(target_arch = "x86_64")]
unsafe fn release_tiles() {
    std::arch::asm!("tilerelease", options(nostack, nomem));
}

/// Two 16×16 f32 result tiles, side by side at `c` (row stride
/// `c_stride` bytes): 16 rows of the activations (`a_high`, `a_low`, row
/// stride `a_stride` bytes) times a pair of output blocks of the packed
/// weight from `b`, over `steps` steps of 32 inputs.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
unsafe fn two_result_tiles(
    a_high: *const u16,
    a_low: *const u16,
    a_stride: usize,
    b: *const u16,
    steps: usize,
    c: *mut f32,
    c_stride: usize,
) {
    // tmm0, tmm1: results; tmm2, tmm3: activations high and low; tmm4–7:
    // block 0 high and low, block 1 high and low.
    std::arch::asm!(
        "tilezero tmm0",
        "tilezero tmm1",
        "2:",
        "tileloadd tmm2, [{a_high} + {a_stride}*1]",
        "tileloadd tmm3, [{a_low} + {a_stride}*1]",
        "tileloadd tmm4, [{b} + {b_stride}*1]",
        "tileloadd tmm5, [{b} + {b_stride}*1 + 1024]",
        "tileloadd tmm6, [{b} + {b_stride}*1 + 2048]",
        "tileloadd tmm7, [{b} + {b_stride}*1 + 3072]",
        "tdpbf16ps tmm0, tmm2, tmm4",
        "tdpbf16ps tmm0, tmm3, tmm4",
        "tdpbf16ps tmm0, tmm2, tmm5",
        "tdpbf16ps tmm1, tmm2, tmm6",
        "tdpbf16ps tmm1, tmm3, tmm6",
        "tdpbf16ps tmm1, tmm2, tmm7",
        "add {a_high}, 64",
        "add {a_low}, 64",
        "add {b}, 4096",
        "dec {steps}",
        "jnz 2b",
        "tilestored [{c} + {c_stride}*1], tmm0",
        "tilestored [{c} + {c_stride}*1 + 64], tmm1",
        a_high = inout(reg) a_high => _,
        a_low = inout(reg) a_low => _,
        b = inout(reg) b => _,
        steps = inout(reg) steps => _,
        a_stride = in(reg) a_stride,
        b_stride = in(reg) DEPTH * 2,
        c = in(reg) c,
        c_stride = in(reg) c_stride,
        options(nostack),
    );
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn configure_tiles() {}
#[cfg(not(target_arch = "x86_64"))]
unsafe fn release_tiles() {}
#[cfg(not(target_arch = "x86_64"))]
unsafe fn two_result_tiles(
    _: *const u16,
    _: *const u16,
    _: usize,
    _: *const u16,
    _: usize,
    _: *mut f32,
    _: usize,
) {
    unreachable!("AMX is x86_64 only; available() is false elsewhere")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Numbers of a layer's sizes, of both signs and several magnitudes.
    pub(crate) fn numbers(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let unit = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                unit * [0.05, 1.0, 7.0][(state >> 20) as usize % 3]
            })
            .collect()
    }

    #[test]
    fn the_split_keeps_sixteen_bits() {
        for x in [1.0f32, -2.345_678_9, 1e-3, 123_456.79, 0.0] {
            let (h, l) = split(x);
            let back = f32::from_bits((h as u32) << 16) + f32::from_bits((l as u32) << 16);
            assert!((back - x).abs() <= x.abs() * 2f32.powi(-16), "{x} {back}");
        }
    }

    /// The largest error of a linear layer's `out` (n rows) against the
    /// same products in f64, relative to the sum of the terms' magnitudes.
    pub(crate) fn worst_relative_error(
        out: &[f32],
        input: &[f32],
        weight: &[f32],
        bias: &[f32],
        n: usize,
    ) -> f64 {
        let (inputs, outputs) = (input.len() / n, bias.len());
        let mut worst = 0.0f64;
        for r in 0..n {
            for o in 0..outputs {
                let terms = (0..inputs)
                    .map(|i| input[r * inputs + i] as f64 * weight[o * inputs + i] as f64);
                let exact = bias[o] as f64 + terms.clone().sum::<f64>();
                let scale = (bias[o].abs() as f64 + terms.map(f64::abs).sum::<f64>()).max(1e-30);
                worst = worst.max((out[r * outputs + o] as f64 - exact).abs() / scale);
            }
        }
        worst
    }

    #[test]
    fn tile_products_equal_f64_ones_to_f32_accuracy() {
        if !available() {
            eprintln!("no AMX here: the tile path is not tested on this machine");
            return;
        }
        // Rows not a multiple of 16, as a sequence's tokens are.
        for (n, inputs, outputs) in [
            (37, 384, 384),
            (1, 64, 32),
            (16, 1536, 384),
            (50, 384, 1536),
        ] {
            let weight = numbers(outputs * inputs, 7);
            let bias = numbers(outputs, 8);
            let input = numbers(n * inputs, 9);
            let packed = PackedWeight::pack(&weight, outputs, inputs).unwrap();
            let mut out = vec![f32::NAN; n * outputs];
            let mut scratch = TileScratch::default();
            linear(&packed, &bias, &input, n, &mut out, &mut scratch);
            // And again with the scratch reused (the padding rows zeroed).
            let mut again = vec![0.0; n * outputs];
            linear(&packed, &bias, &input, n, &mut again, &mut scratch);
            assert_eq!(out, again);
            let worst = worst_relative_error(&out, &input, &weight, &bias, n);
            // f32 accumulation over these lengths gives ~1e-6 relative to the
            // sum of magnitudes; one bf16 would give ~4e-3.
            assert!(
                worst < 2e-5,
                "{n}×{inputs}→{outputs}: relative error {worst:e}"
            );
        }
    }

    #[test]
    fn shapes_that_are_not_whole_tiles_stay_on_the_f32_path() {
        assert!(PackedWeight::pack(&[0.0; 48 * 32], 48, 32).is_none());
        assert!(PackedWeight::pack(&[0.0; 64 * 40], 64, 40).is_none());
        assert!(PackedWeight::pack(&[0.0; 64 * 32], 64, 32).is_some());
    }
}
