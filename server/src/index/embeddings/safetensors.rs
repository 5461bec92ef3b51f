//! The tensors of a `model.safetensors` file, read as `f32`: an 8-byte
//! little-endian header length, a JSON header naming each tensor's dtype,
//! shape and byte range, then the data. Little-endian `F32` files (what
//! sentence-transformers publishes) are memory-mapped and read in place, so
//! only the pages a forward pass touches are resident — a 30,000-word
//! embedding table costs the rows of the words seen; `F16` and `BF16` files
//! are converted into memory once.

use anyhow::{anyhow, bail, Context};
use std::collections::HashMap;
use std::path::Path;

/// Where a tensor's values are, in `f32` units from the start of the data.
#[derive(Clone, Debug)]
pub struct TensorInfo {
    pub shape: Vec<usize>,
    start: usize,
    len: usize,
}

enum Floats {
    /// The file itself; the data starts at `offset` bytes, 4-byte aligned.
    Mapped {
        map: memmap2::Mmap,
        offset: usize,
    },
    Owned(Vec<f32>),
}

pub struct Tensors {
    floats: Floats,
    tensors: HashMap<String, TensorInfo>,
}

impl Tensors {
    pub fn open(path: &Path) -> anyhow::Result<Tensors> {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        // SAFETY: the map is read-only; a model file changed under a running
        // server is the user's to avoid, as with any mapped index.
        let map = unsafe { memmap2::Mmap::map(&file) }
            .with_context(|| format!("mapping {}", path.display()))?;
        let header_len = map
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
            .ok_or_else(|| anyhow!("{} is too short for a safetensors file", path.display()))?;
        let data_start = 8usize
            .checked_add(header_len)
            .filter(|&end| end <= map.len())
            .ok_or_else(|| {
                anyhow!(
                    "{}: the header runs past the end of the file",
                    path.display()
                )
            })?;
        let header: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&map[8..data_start])
                .with_context(|| format!("{}: the header is not JSON", path.display()))?;
        let data_len = map.len() - data_start;
        let mut raw = Vec::new();
        for (name, meta) in &header {
            if name == "__metadata__" {
                continue;
            }
            let dtype = meta["dtype"].as_str().unwrap_or("");
            let shape = numbers(&meta["shape"]);
            let offsets = numbers(&meta["data_offsets"]);
            let [begin, end] = offsets[..] else {
                bail!("{}: tensor {name} has no data_offsets", path.display());
            };
            let elements: usize = shape.iter().product();
            let width = match dtype {
                "F32" => 4,
                "F16" | "BF16" => 2,
                // Integer tensors (position ids in some exports) are not weights.
                "I64" | "I32" | "U8" | "I8" | "BOOL" => continue,
                other => bail!(
                    "{}: tensor {name} has dtype {other}, not a float",
                    path.display()
                ),
            };
            if begin > end || end > data_len || end - begin != elements * width {
                bail!(
                    "{}: tensor {name} does not fit its byte range",
                    path.display()
                );
            }
            raw.push((name.clone(), dtype.to_string(), shape, begin, end));
        }
        let all_f32 = raw.iter().all(|(_, dtype, ..)| dtype == "F32");
        let aligned = data_start % 4 == 0 && raw.iter().all(|(.., begin, _)| begin % 4 == 0);
        let mut tensors = HashMap::with_capacity(raw.len());
        if all_f32 && aligned && cfg!(target_endian = "little") {
            for (name, _, shape, begin, end) in raw {
                let info = TensorInfo {
                    shape,
                    start: begin / 4,
                    len: (end - begin) / 4,
                };
                tensors.insert(name, info);
            }
            return Ok(Tensors {
                floats: Floats::Mapped {
                    map,
                    offset: data_start,
                },
                tensors,
            });
        }
        let mut owned = Vec::new();
        for (name, dtype, shape, begin, end) in raw {
            let bytes = &map[data_start + begin..data_start + end];
            let start = owned.len();
            match dtype.as_str() {
                "F32" => owned.extend(
                    bytes
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))),
                ),
                "F16" => owned.extend(
                    bytes
                        .chunks_exact(2)
                        .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))),
                ),
                _ => owned.extend(
                    bytes
                        .chunks_exact(2)
                        .map(|b| f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16)),
                ),
            }
            let info = TensorInfo {
                shape,
                start,
                len: owned.len() - start,
            };
            tensors.insert(name, info);
        }
        Ok(Tensors {
            floats: Floats::Owned(owned),
            tensors,
        })
    }

    fn all(&self) -> &[f32] {
        match &self.floats {
            Floats::Mapped { map, offset } => {
                let bytes = &map[*offset..];
                // SAFETY: `open` checked that the data starts 4-byte aligned
                // (the map itself is page aligned) and that every tensor is
                // inside it; any bit pattern is a valid f32.
                unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<f32>(), bytes.len() / 4) }
            }
            Floats::Owned(values) => values,
        }
    }

    pub fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.get(name)
    }

    /// The values of a tensor, row-major.
    pub fn values(&self, info: &TensorInfo) -> &[f32] {
        &self.all()[info.start..info.start + info.len]
    }
}

/// A JSON array of sizes (a shape, a byte range); non-numbers are dropped.
fn numbers(value: &serde_json::Value) -> Vec<usize> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|n| n.as_u64())
                .map(|n| n as usize)
                .collect()
        })
        .unwrap_or_default()
}

/// IEEE 754 half precision to single, subnormals and infinities included.
pub fn f16_to_f32(half: u16) -> f32 {
    let sign = ((half >> 15) as u32) << 31;
    let exponent = ((half >> 10) & 0x1f) as u32;
    let mantissa = (half & 0x3ff) as u32;
    let bits = match (exponent, mantissa) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: value = m × 2^-24.
            let value = m as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -value } else { value };
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_values_convert_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x8000), -0.0);
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
    }

    fn write_file(dir: &Path, header: &str, data: &[u8]) -> std::path::PathBuf {
        let path = dir.join("model.safetensors");
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(data);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn f32_tensors_are_read_in_place_and_f16_ones_converted() {
        let dir = tempfile::tempdir().unwrap();
        let mut data = Vec::new();
        for v in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0] {
            data.extend_from_slice(&v.to_le_bytes());
        }
        // Header padded to a multiple of 4 as writers do.
        let header = r#"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#;
        let padded = format!("{header:<width$}", width = header.len().div_ceil(8) * 8);
        let tensors = Tensors::open(&write_file(dir.path(), &padded, &data)).unwrap();
        assert!(matches!(tensors.floats, Floats::Mapped { .. }));
        let a = tensors.info("a").unwrap();
        assert_eq!(a.shape, vec![2, 2]);
        assert_eq!(tensors.values(a), &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(tensors.values(tensors.info("b").unwrap()), &[5.0, 6.0]);

        let halves: Vec<u8> = [0x3c00u16, 0xc000]
            .iter()
            .flat_map(|h| h.to_le_bytes())
            .collect();
        let header = r#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#;
        let tensors = Tensors::open(&write_file(dir.path(), header, &halves)).unwrap();
        assert_eq!(tensors.values(tensors.info("h").unwrap()), &[1.0, -2.0]);
    }

    #[test]
    fn damaged_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short");
        std::fs::write(&path, b"\x05").unwrap();
        assert!(Tensors::open(&path).is_err());
        let header = r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#;
        assert!(Tensors::open(&write_file(dir.path(), header, &[0; 8])).is_err());
        let path = dir.path().join("huge");
        std::fs::write(&path, u64::MAX.to_le_bytes()).unwrap();
        assert!(Tensors::open(&path).is_err());
    }
}
