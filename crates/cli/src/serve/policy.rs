//! The Content-Security-Policy of the app's pages: what `serve` sends, and what docs/deploy.md asks of a
//! school's own server. Pure text; knows nothing of requests.

use cartable_core::html::{csp_hash, EARLY_SCRIPT, EARLY_STYLE};

/// The script that boots the app, written inline in each app page (`www/index.html`, `www/embed.html`),
/// whose readable source is `www/boot.js`: the policy allows it by its hash.
pub const BOOT_SCRIPT: &str = include_str!("../../../../www/boot.js");
/// The few rules each app page carries inline, so that its first words are readable before the worker
/// has kept the styles: the policy allows them by their hash.
pub const BOOT_STYLE: &str = ":root{color-scheme:light dark}body{margin:0;font:1rem/1.55 system-ui,sans-serif}\
                              #cartable{max-width:52rem;margin:0 auto;padding:1rem}";

/// Which sites may put a page in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Pages of the same origin only: the app page, which reads its course from its own config block.
    SameOrigin,
    /// Any site: the embed page, whose course and key the framing site writes in its address.
    AnySite,
}

/// The policy of an app page. Scripts are the origin's own files, WebAssembly compiled from them
/// (`'wasm-unsafe-eval'`, never `'unsafe-eval'`), the boot script and the worker's one early-lesson line,
/// by their hashes; styles likewise. Pictures and media come from verified bytes (`blob:`). The page fetches from its
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
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {boot} {script}; style-src 'self' {boot_style} \
         {style}; img-src 'self' blob: data:; media-src 'self' blob:; connect-src {connect}; object-src 'none'; \
         base-uri 'none'; form-action 'none'",
        boot = csp_hash(BOOT_SCRIPT),
        script = csp_hash(EARLY_SCRIPT),
        boot_style = csp_hash(BOOT_STYLE),
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
    fn the_pages_carry_the_same_policy_and_the_boot_script_and_style_it_allows() {
        let meta = format!(r#"<meta http-equiv="Content-Security-Policy" content="{}">"#, meta_policy());
        for (page, from) in [("index.html", "block"), ("embed.html", "address")] {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/").to_owned() + page;
            let html = std::fs::read_to_string(&path).unwrap();
            assert!(html.contains(&meta), "www/{page} must carry, in its <head>:\n{meta}");
            let boot = format!(r#"<script id="cartable-boot" data-from="{from}">{BOOT_SCRIPT}</script>"#);
            assert!(html.contains(&boot), "www/{page} must carry www/boot.js exactly, inline, with data-from={from}");
            assert!(html.contains(&format!("<style>{BOOT_STYLE}</style>")), "www/{page} must carry the boot style");
        }
    }

    #[test]
    fn the_deployment_guide_gives_the_policy_of_this_version() {
        let readme = include_str!("../../../../docs/deploy.md");
        let sources = policy("'self' ws: wss: https://mirror.example");
        assert!(readme.contains(&sources), "docs/deploy.md's nginx line must give this version's policy:\n{sources}");
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
