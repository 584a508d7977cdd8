//! The Content-Security-Policy of the app's pages: what `serve` sends, and what the README asks of a
//! school's own server. Pure text; knows nothing of requests.

use cartable_core::html::{csp_hash, EARLY_SCRIPT, EARLY_STYLE};

/// Which sites may put a page in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Pages of the same origin only: the app page, which reads its course from its own config block.
    SameOrigin,
    /// Any site: the embed page, whose course and key the framing site writes in its address.
    AnySite,
}

/// The policy of an app page. Scripts are the origin's own files, WebAssembly compiled from them
/// (`'wasm-unsafe-eval'`, never `'unsafe-eval'`) and the worker's one early-lesson line, by its hash;
/// styles likewise. Pictures and media come from verified bytes (`blob:`). The page fetches from its
/// origin, the tracker (`ws:`/`wss:`) and `mirrors` (origins such as `https://cdn.example.org`). The embed
/// page may also fetch a course from any `https:` host, as its address names it.
pub fn content_security_policy(mirrors: &[String], framing: Framing) -> String {
    let mut connect = String::from("'self' ws: wss:");
    if framing == Framing::AnySite {
        connect.push_str(" https:");
    }
    for origin in mirrors {
        connect.push(' ');
        connect.push_str(origin);
    }
    let ancestors = match framing {
        Framing::SameOrigin => "'self'",
        Framing::AnySite => "*",
    };
    format!("{}; frame-ancestors {ancestors}", policy(&connect))
}

/// The policy each app page (`www/index.html`, `www/embed.html`) also carries in a `<meta>`, so that it
/// holds on any server and in the copy the worker serves offline: the same, but with any mirror
/// (`http:`, `https:`), and without `frame-ancestors`, which a `<meta>` cannot set. The header narrows it.
/// The pages are static files: a test checks that they carry this.
#[cfg(test)]
pub fn meta_policy() -> String {
    policy("'self' http: https: ws: wss:")
}

fn policy(connect: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {script}; style-src 'self' {style}; \
         img-src 'self' blob: data:; media-src 'self' blob:; connect-src {connect}; object-src 'none'; \
         base-uri 'none'; form-action 'none'",
        script = csp_hash(EARLY_SCRIPT),
        style = csp_hash(EARLY_STYLE),
    )
}

/// The origin (`scheme://host[:port]`) of an absolute URL, for `connect-src`; `None` for a relative one.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().filter(|authority| !authority.is_empty())?;
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_wasm_and_the_early_lesson_but_no_eval() {
        let policy = content_security_policy(&[], Framing::SameOrigin);
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"), "{policy}");
        assert!(!policy.contains("'unsafe-eval'") && !policy.contains("'unsafe-inline'"), "{policy}");
        assert!(policy.ends_with("frame-ancestors 'self'"), "{policy}");
        assert!(content_security_policy(&[], Framing::AnySite).ends_with("frame-ancestors *"));
    }

    #[test]
    fn the_pages_carry_the_same_policy() {
        let meta = format!(r#"<meta http-equiv="Content-Security-Policy" content="{}">"#, meta_policy());
        for page in ["index.html", "embed.html"] {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/").to_owned() + page;
            let html = std::fs::read_to_string(&path).unwrap();
            assert!(html.contains(&meta), "www/{page} must carry, in its <head>:\n{meta}");
        }
    }

    #[test]
    fn names_the_mirrors() {
        let origin = origin_of("http://127.0.0.1:8081/courses/x/").unwrap();
        assert_eq!(origin, "http://127.0.0.1:8081");
        let policy = content_security_policy(&[origin], Framing::SameOrigin);
        assert!(policy.contains("connect-src 'self' ws: wss: http://127.0.0.1:8081;"), "{policy}");
        assert_eq!(origin_of("miroir/"), None);
    }
}
