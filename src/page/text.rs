//! Text from elsewhere (reasons, peers' names, addresses) made fit for a page:
//! control characters become spaces and long text is cut. Escaping is maud's
//! (every interpolation is escaped); this only bounds what a hostile or
//! verbose dependency can put on the screen.

/// At most this many characters of a reason are shown.
pub const REASON_CHARS: usize = 300;
/// At most this many characters of a name or address are shown.
pub const NAME_CHARS: usize = 80;

/// `text` without control characters, cut to `max` characters (with `…`).
pub fn clean(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_go_and_long_text_is_cut() {
        assert_eq!(clean("a\u{1b}[31mb\nc", 80), "a [31mb c");
        let long = "x".repeat(10_000);
        assert_eq!(clean(&long, 300).chars().count(), 301);
    }
}
