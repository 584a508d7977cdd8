//! Paths inside a course folder: always relative, `/`-separated, with no `.` or `..` left.

/// Resolves `reference`, written in the file at `base` (a course path), to a course path.
/// Returns `None` when the reference leaves the course folder or is absolute.
pub fn resolve(base: &str, reference: &str) -> Option<String> {
    if reference.starts_with('/') || reference.starts_with('\\') {
        return None;
    }
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop(); // the file name of `base`
    for part in reference.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ if part.contains('\\') => return None,
            _ => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Where the service worker serves whole course files, relative to the base URL a course is published
/// under: `cartable-files/<course id>/<course path>`.
pub const WORKER_FILES: &str = "cartable-files/";

/// The address of the course file `path` as the service worker serves it, relative to the course's base
/// URL; each segment of `path` is percent-encoded (the worker reads it back with [`percent_decode`]).
pub fn worker_file(course_id: &str, path: &str) -> String {
    // Built in place rather than joined: the service worker then carries one `join` fewer.
    let mut address = format!("{WORKER_FILES}{course_id}");
    for segment in path.split('/') {
        address.push('/');
        address.push_str(&percent_encode(segment));
    }
    address
}

/// `text` with every byte outside `A-Z a-z 0-9 - _ . ~` written as `%XX`, so it can stand in a URL path
/// segment.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (as in `mon%20image.png`). `None` when an escape is broken or not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(base: &str, reference: &str, expected: Option<&str>) {
        assert_eq!(resolve(base, reference).as_deref(), expected);
    }

    #[test]
    fn resolves_relative_to_the_lesson() {
        check("lessons/01.md", "../images/a.svg", Some("images/a.svg"));
        check("lessons/01.md", "./b.png", Some("lessons/b.png"));
        check("lessons/01.md", "c/../d.png", Some("lessons/d.png"));
        check("agenda.toml", "docs/fiche.pdf", Some("docs/fiche.pdf"));
    }

    #[test]
    fn never_leaves_the_course_folder() {
        check("lessons/01.md", "../../etc/passwd", None);
        check("lessons/01.md", "/etc/passwd", None);
        check("lessons/01.md", "..\\..\\x", None);
        check("lessons/01.md", "..", None);
    }

    #[test]
    fn worker_files_are_addressed_segment_by_segment() {
        assert_eq!(
            worker_file("physique-3e", "audio/résumé 1.wav"),
            "cartable-files/physique-3e/audio/r%C3%A9sum%C3%A9%201.wav"
        );
        for text in ["mon schéma (1).svg", "a%b#c?d", "", "déjà/vu"] {
            assert_eq!(percent_decode(&percent_encode(text)).as_deref(), Some(text));
        }
    }

    #[test]
    fn decodes_escapes() {
        assert_eq!(percent_decode("mon%20sch%C3%A9ma.svg").as_deref(), Some("mon schéma.svg"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}
