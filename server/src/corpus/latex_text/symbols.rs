//! What TeX commands stand for: accent commands as combining marks, special
//! letters, text symbols, Greek letters and the common math symbols and
//! operators. Tables only; `latex_text` decides when each applies.

/// Combining mark of a punctuation accent command (`\"`, `\'`, ...).
pub(super) fn accent_mark(c: char) -> Option<char> {
    Some(match c {
        '"' => '\u{308}',
        '\'' => '\u{301}',
        '^' => '\u{302}',
        '`' => '\u{300}',
        '~' => '\u{303}',
        '=' => '\u{304}',
        '.' => '\u{307}',
        _ => return None,
    })
}

/// Combining mark of a one-letter accent command (`\u`, `\v`, `\c`, ...).
pub(super) fn accent_mark_letter(b: u8) -> Option<char> {
    Some(match b {
        b'u' => '\u{306}',
        b'v' => '\u{30C}',
        b'H' => '\u{30B}',
        b'c' => '\u{327}',
        b'k' => '\u{328}',
        b'r' => '\u{30A}',
        b'd' => '\u{323}',
        b'b' => '\u{331}',
        _ => return None,
    })
}

/// The ASCII character an accent stands for when it has no base (`\~{}`).
pub(super) fn spacing_accent(mark: char) -> Option<char> {
    Some(match mark {
        '\u{303}' => '~',
        '\u{302}' => '^',
        '\u{301}' => '\'',
        '\u{300}' => '`',
        '\u{308}' => '"',
        _ => return None,
    })
}

pub(super) fn letter_command(name: &str) -> Option<&'static str> {
    Some(match name {
        "ss" => "ß",
        "o" => "ø",
        "O" => "Ø",
        "ae" => "æ",
        "AE" => "Æ",
        "oe" => "œ",
        "OE" => "Œ",
        "aa" => "å",
        "AA" => "Å",
        "l" => "ł",
        "L" => "Ł",
        "i" => "ı",
        "j" => "ȷ",
        "dh" => "ð",
        "DH" => "Ð",
        "th" => "þ",
        "TH" => "Þ",
        "dj" => "đ",
        "DJ" => "Đ",
        "ng" => "ŋ",
        "NG" => "Ŋ",
        "TeX" => "TeX",
        "LaTeX" => "LaTeX",
        "LaTeXe" => "LaTeX2ε",
        "XeTeX" => "XeTeX",
        "LuaTeX" => "LuaTeX",
        "ConTeXt" => "ConTeXt",
        "BibTeX" => "BibTeX",
        _ => return None,
    })
}

/// Text symbols, Greek letters and the common math symbols.
pub(super) fn symbol_command(name: &str) -> Option<&'static str> {
    Some(match name {
        "ldots" | "dots" | "textellipsis" => "…",
        "cdots" => "⋯",
        "textendash" => "–",
        "textemdash" => "—",
        "textquoteleft" => "‘",
        "textquoteright" => "’",
        "textquotedblleft" => "“",
        "textquotedblright" => "”",
        "textasciitilde" => "~",
        "textbackslash" => "\\",
        "textbraceleft" => "{",
        "textbraceright" => "}",
        "textasciicircum" => "^",
        "textunderscore" => "_",
        "textbar" => "|",
        "textless" => "<",
        "textgreater" => ">",
        "textdegree" => "°",
        "S" => "§",
        "P" => "¶",
        "copyright" => "©",
        "textregistered" => "®",
        "texttrademark" => "™",
        "euro" => "€",
        "pounds" => "£",
        "times" => "×",
        "leq" | "le" => "≤",
        "geq" | "ge" => "≥",
        "neq" | "ne" => "≠",
        "infty" => "∞",
        "rightarrow" | "to" => "→",
        "leftarrow" | "gets" => "←",
        "Rightarrow" => "⇒",
        "leftrightarrow" => "↔",
        "cdot" => "·",
        "pm" => "±",
        "approx" => "≈",
        "sim" => "∼",
        "in" => "∈",
        "ell" => "ℓ",
        "mid" => "|",
        "oplus" => "⊕",
        "otimes" => "⊗",
        "circ" => "∘",
        "sqrt" => "√",
        "sum" => "∑",
        "prod" => "∏",
        "partial" => "∂",
        "forall" => "∀",
        "exists" => "∃",
        "emptyset" => "∅",
        _ => return greek(name),
    })
}

fn greek(name: &str) -> Option<&'static str> {
    Some(match name {
        "alpha" => "α",
        "beta" => "β",
        "gamma" => "γ",
        "delta" => "δ",
        "epsilon" => "ϵ",
        "varepsilon" => "ε",
        "zeta" => "ζ",
        "eta" => "η",
        "theta" => "θ",
        "vartheta" => "ϑ",
        "iota" => "ι",
        "kappa" => "κ",
        "lambda" => "λ",
        "mu" => "μ",
        "nu" => "ν",
        "xi" => "ξ",
        "pi" => "π",
        "varpi" => "ϖ",
        "rho" => "ρ",
        "varrho" => "ϱ",
        "sigma" => "σ",
        "varsigma" => "ς",
        "tau" => "τ",
        "upsilon" => "υ",
        "phi" => "ϕ",
        "varphi" => "φ",
        "chi" => "χ",
        "psi" => "ψ",
        "omega" => "ω",
        "Gamma" => "Γ",
        "Delta" => "Δ",
        "Theta" => "Θ",
        "Lambda" => "Λ",
        "Xi" => "Ξ",
        "Pi" => "Π",
        "Sigma" => "Σ",
        "Upsilon" => "Υ",
        "Phi" => "Φ",
        "Psi" => "Ψ",
        "Omega" => "Ω",
        _ => return None,
    })
}

/// Math operators whose name is what a reader expects to see (`$\log n$`).
pub(super) fn is_math_operator(name: &str) -> bool {
    matches!(
        name,
        "log"
            | "ln"
            | "exp"
            | "sin"
            | "cos"
            | "tan"
            | "max"
            | "min"
            | "sup"
            | "inf"
            | "lim"
            | "det"
            | "gcd"
            | "deg"
            | "dim"
            | "ker"
            | "Pr"
            | "poly"
            | "polylog"
            | "negl"
    )
}
