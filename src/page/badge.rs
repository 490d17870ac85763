//! Shields-style badges (`/badge.svg`, `/badge/{check}.svg`): a grey label
//! and a coloured message, the message a state word or an uptime, so a badge
//! reads the same without its colour.
//!
//! Text widths come from Verdana 11 px advance widths (the font shields
//! uses), so the boxes fit their words in every browser that has it and
//! roughly in those that fall back.

use maud::html;

use super::text::clean;

/// Verdana 11 px advance widths of the printable ASCII characters, in tenths
/// of a pixel (32 `' '` to 126 `'~'`).
const WIDTHS: [u16; 95] = [
    39, 43, 51, 92, 70, 121, 80, 30, 50, 50, 70, 92, 40, 50, 40, 50, 70, 70, 70, 70, 70, 70, 70, 70, 70, 70, 50, 50,
    92, 92, 92, 60, 110, 75, 76, 77, 85, 70, 63, 85, 84, 47, 50, 76, 62, 95, 83, 87, 66, 87, 77, 75, 68, 81, 75, 110,
    75, 68, 75, 50, 50, 50, 92, 70, 70, 67, 69, 57, 69, 66, 39, 69, 71, 30, 38, 65, 30, 108, 71, 67, 69, 69, 47, 57,
    43, 71, 65, 92, 65, 65, 58, 70, 50, 70, 92,
];

fn width(text: &str) -> u32 {
    let tenths: u32 = text
        .chars()
        .map(|c| match c as u32 {
            32..=126 => u32::from(WIDTHS[c as usize - 32]),
            _ => 75,
        })
        .sum();
    tenths.div_ceil(10)
}

/// A colour for a state word or an uptime share.
pub fn colour_of_state(word: &str) -> &'static str {
    match word {
        "pass" => "#1e8e3e",
        "warn" => "#b06000",
        "fail" | "draining" | "maintenance" => "#c5221f",
        _ => "#80868b",
    }
}

/// A colour for an uptime share: green from 99.9 %, then yellow-green,
/// yellow, orange and red below 95 %.
pub fn colour_of_uptime(share: Option<f64>) -> &'static str {
    match share {
        None => "#80868b",
        Some(u) if u >= 0.999 => "#1e8e3e",
        Some(u) if u >= 0.99 => "#7a9a01",
        Some(u) if u >= 0.97 => "#b59a00",
        Some(u) if u >= 0.95 => "#b06000",
        Some(_) => "#c5221f",
    }
}

/// The badge SVG.
pub fn svg(label: &str, message: &str, colour: &str) -> String {
    let label = clean(label, 40);
    let message = clean(message, 40);
    let (lw, mw) = (width(&label) + 10, width(&message) + 10);
    let total = lw + mw;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(total) height="20" role="img" aria-label={ (label) ": " (message) } {
            title { (label) ": " (message) }
            linearGradient id="s" x2="0" y2="100%" {
                stop offset="0" stop-color="#bbb" stop-opacity=".1" {}
                stop offset="1" stop-opacity=".1" {}
            }
            clipPath id="r" { rect width=(total) height="20" rx="3" fill="#fff" {} }
            g clip-path="url(#r)" {
                rect width=(lw) height="20" fill="#555" {}
                rect x=(lw) width=(mw) height="20" fill=(colour) {}
                rect width=(total) height="20" fill="url(#s)" {}
            }
            g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11" {
                text x=(f64::from(lw) / 2.0) y="15" fill="#010101" fill-opacity=".3" { (label) }
                text x=(f64::from(lw) / 2.0) y="14" { (label) }
                text x=(f64::from(lw) + f64::from(mw) / 2.0) y="15" fill="#010101" fill-opacity=".3" { (message) }
                text x=(f64::from(lw) + f64::from(mw) / 2.0) y="14" { (message) }
            }
        }
    }
    .into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_escape_and_fit_their_text() {
        let s = svg("<script>", "pass", colour_of_state("pass"));
        assert!(s.contains("&lt;script&gt;"), "{s}");
        assert!(!s.contains("<script>"));
        assert!(width("healthgate") > 50 && width("healthgate") < 80);
    }
}
