//! The default model fetched once from its upstream (Hugging Face's
//! sentence-transformers/all-MiniLM-L6-v2), each file checked against the
//! SHA-256 it is known by before it is put in place; nothing is bundled in
//! the binary. The download is `curl`'s (on every platform paper-ls ships
//! for), so the server carries no TLS stack of its own; an offline machine
//! points `semantic.model` at a copy instead, or sets
//! `PAPER_LS_MODEL_URL` to a mirror (`file://` included).

use anyhow::{bail, Context};
use std::io::Read;
use std::path::Path;
use std::process::Command;

/// Where the default model's files are fetched from.
pub const UPSTREAM: &str =
    "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main";

/// The default model's files and their SHA-256, as published upstream.
pub const FILES: [(&str, &str); 5] = [
    (
        "config.json",
        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    ),
    (
        "tokenizer.json",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
    (
        "sentence_bert_config.json",
        "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    ),
    (
        "1_Pooling/config.json",
        "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    ),
    (
        "model.safetensors",
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
];

/// Where to fetch from: `$PAPER_LS_MODEL_URL` (a mirror, or a `file://`
/// folder on an offline machine), else the upstream.
pub fn source() -> String {
    std::env::var("PAPER_LS_MODEL_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| UPSTREAM.to_string())
}

/// True when `folder` holds every file of the default model (not checked
/// again: they were when fetched).
pub fn is_complete(folder: &Path) -> bool {
    FILES.iter().all(|(name, _)| folder.join(name).is_file())
}

/// Fetches the default model into `folder` from `base` (the upstream, or
/// `$PAPER_LS_MODEL_URL`), file by file, each checked before it is renamed
/// into place; a file already there is kept.
pub fn fetch_default_model(folder: &Path, base: &str) -> anyhow::Result<()> {
    for (name, expected) in FILES {
        let target = folder.join(name);
        if target.is_file() {
            continue;
        }
        let parent = target.parent().unwrap_or(folder);
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let partial = target.with_extension(format!("part{}", std::process::id()));
        let url = format!("{}/{name}", base.trim_end_matches('/'));
        let status = Command::new("curl")
            .args([
                "--fail",
                "--silent",
                "--show-error",
                "--location",
                "--retry",
                "2",
                "--output",
            ])
            .arg(&partial)
            .arg(&url)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => {
                let _ = std::fs::remove_file(&partial);
                bail!("downloading {url} failed (curl: {s})");
            }
            Err(e) => bail!("cannot run curl to download {url}: {e}"),
        }
        let digest = sha256_file(&partial)?;
        if digest != expected {
            let _ = std::fs::remove_file(&partial);
            bail!("{url} is not the expected file (SHA-256 {digest}, expected {expected})");
        }
        std::fs::rename(&partial, &target)
            .with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(())
}

/// The SHA-256 of a file, in lower-case hex.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher.finish().iter().map(|b| format!("{b:02x}")).collect())
}

/// SHA-256 (FIPS 180-4), for checking downloads.
pub struct Sha256 {
    state: [u32; 8],
    block: [u8; 64],
    filled: usize,
    length: u64,
}

const ROUND: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

impl Default for Sha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha256 {
    pub fn new() -> Sha256 {
        Sha256 {
            state: [
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ],
            block: [0; 64],
            filled: 0,
            length: 0,
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            let take = (64 - self.filled).min(data.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled == 64 {
                let block = self.block;
                self.compress(&block);
                self.filled = 0;
            }
        }
    }

    pub fn finish(mut self) -> [u8; 32] {
        let bits = self.length.wrapping_mul(8);
        self.update(&[0x80]);
        while self.filled != 56 {
            self.update(&[0]);
        }
        self.update(&bits.to_be_bytes());
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    fn compress(&mut self, block: &[u8; 64]) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = self.state;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let choice = (e & f) ^ (!e & g);
            let t1 = h
                .wrapping_add(s1)
                .wrapping_add(choice)
                .wrapping_add(ROUND[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let majority = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(majority);
            h = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (s, v) in self.state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s = s.wrapping_add(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(data: &[u8]) -> String {
        let mut h = Sha256::new();
        h.update(data);
        h.finish().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha256_gives_the_standard_test_vectors() {
        assert_eq!(
            hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        // A million 'a's, fed in uneven pieces.
        let mut h = Sha256::new();
        let a = vec![b'a'; 997];
        let mut left = 1_000_000;
        while left > 0 {
            let n = left.min(997);
            h.update(&a[..n]);
            left -= n;
        }
        let digest: String = h.finish().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            digest,
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn a_mirror_with_a_wrong_file_is_refused_and_a_right_one_accepted() {
        let Some(model) = crate::index::embeddings::test_model() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        // A mirror holding the model's files, as a file:// URL.
        let mirror = dir.path().join("mirror");
        for (name, _) in FILES {
            let target = mirror.join(name);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(model.join(name), &target).unwrap();
        }
        let base = format!("file://{}", mirror.display());
        let fetched = dir.path().join("fetched");
        fetch_default_model(&fetched, &base).unwrap();
        assert!(is_complete(&fetched));
        assert_eq!(
            std::fs::read(fetched.join("tokenizer.json")).unwrap(),
            std::fs::read(model.join("tokenizer.json")).unwrap()
        );
        // A tampered file is not put in place.
        std::fs::write(mirror.join("config.json"), b"{}").unwrap();
        let other = dir.path().join("other");
        let error = fetch_default_model(&other, &base).unwrap_err().to_string();
        assert!(error.contains("not the expected file"), "{error}");
        assert!(!other.join("config.json").exists());
        let missing = fetch_default_model(&dir.path().join("none"), "file:///nonexistent/mirror");
        assert!(missing.is_err());
    }
}
