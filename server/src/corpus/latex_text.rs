//! TEMPORARY stand-in.
pub fn tex_to_unicode(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}
