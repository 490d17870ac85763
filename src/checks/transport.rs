//! Transport failures in the same words for every kind: `connection refused`,
//! `connection reset by peer`, `connection closed by the server`, ... instead of
//! each client library's own spelling (`Input/output error: Connection reset by
//! peer (os error 104)`). Operators grep and alert on these reasons.

use std::error::Error;
use std::io::ErrorKind;

/// Longest upstream text quoted in a reason, in bytes (not characters: invalid
/// UTF-8 becomes U+FFFD, three bytes each, and bodies must stay small).
const MAX_QUOTE: usize = 240;

/// One line of printable text, cut at `MAX_QUOTE` bytes on a character
/// boundary: how every kind quotes what a server said in a reason.
pub fn one_line(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if cleaned.len() > MAX_QUOTE {
        let end = (0..=MAX_QUOTE)
            .rev()
            .find(|&i| cleaned.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}...", &cleaned[..end])
    } else {
        cleaned
    }
}

/// One I/O error in words.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::ConnectionRefused => "connection refused".into(),
        ErrorKind::ConnectionReset => "connection reset by peer".into(),
        ErrorKind::ConnectionAborted => "connection aborted".into(),
        ErrorKind::BrokenPipe => "connection closed by the server (broken pipe)".into(),
        ErrorKind::UnexpectedEof => "connection closed by the server mid-answer".into(),
        ErrorKind::TimedOut => "the operating system timed the connection out".into(),
        ErrorKind::AddrNotAvailable => "address not available".into(),
        _ => words(&e.to_string()),
    }
}

/// The first I/O error in `e`'s source chain (itself included), in words.
pub fn io_in_chain(e: &(dyn Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io_reason(io));
        }
        cur = err.source();
    }
    None
}

/// Library texts that carry an OS error only as text: the same words as
/// [`io_reason`], without the `(os error N)` suffix.
pub fn words(text: &str) -> String {
    known(text).unwrap_or_else(|| strip_os_code(text))
}

/// The reason for a text that names a failure we have words for.
pub fn known(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    for (needle, reason) in [
        ("connection refused", "connection refused"),
        ("connection reset by peer", "connection reset by peer"),
        ("broken pipe", "connection closed by the server (broken pipe)"),
        // rustls, on a first answer that is not a TLS record.
        (
            "corrupt message of type invalidcontenttype",
            "TLS handshake failed: the server does not speak TLS here (plain HTTP on this port?)",
        ),
        (
            "invalid peer certificate: unknownissuer",
            "TLS: the server certificate is not signed by a trusted CA (UnknownIssuer; check ca_file)",
        ),
        (
            "invalid peer certificate: notvalidforname",
            "TLS: the server certificate is not valid for this host name (NotValidForName)",
        ),
        (
            "invalid peer certificate: expired",
            "TLS: the server certificate has expired (Expired)",
        ),
    ] {
        if lower.contains(needle) {
            return Some(reason.into());
        }
    }
    // rustls 0.23 names the host and the certificate's names.
    let name = "invalid peer certificate: certificate not valid for name ";
    if let Some(i) = lower.find(name) {
        return Some(format!(
            "TLS: the server certificate is not valid for this host name (NotValidForName): {}",
            one_line(&text[i + "invalid peer certificate: ".len()..])
        ));
    }
    // getaddrinfo's text, whichever library passes it on.
    let lookup = "failed to lookup address information: ";
    lower.find(lookup).map(|i| {
        let detail = strip_os_code(&text[i + lookup.len()..]);
        format!("host name does not resolve ({detail})")
    })
}

fn strip_os_code(text: &str) -> String {
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_spellings_become_one_vocabulary() {
        let reset = std::io::Error::from(ErrorKind::ConnectionReset);
        assert_eq!(io_reason(&reset), "connection reset by peer");
        assert_eq!(
            words("Input/output error: Connection reset by peer (os error 104)"),
            "connection reset by peer"
        );
        assert_eq!(words("Network unreachable (os error 101)"), "Network unreachable");
        assert_eq!(words("unexpected answer"), "unexpected answer");
        assert!(words("received corrupt message of type InvalidContentType").starts_with("TLS handshake failed"));
        assert_eq!(
            words("connect failed: failed to lookup address information: Name or service not known"),
            "host name does not resolve (Name or service not known)"
        );
        let wrapped = std::io::Error::other(std::fmt::Error);
        assert_eq!(
            io_in_chain(&wrapped).as_deref(),
            Some("an error occurred when formatting an argument")
        );
    }
}
