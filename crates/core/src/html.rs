//! A lesson tree as escaped HTML, so that the service worker can show a stored lesson before the app has
//! started. Same closed list of elements as the app's renderer; every text and attribute value is escaped;
//! only addresses the core accepted, and file URLs the caller gives, become links or pictures.
//! Pure: nodes in, a string out.

use crate::markdown::{Kind, Node, Target};

/// The lesson as `<article class="lesson-body">…</article>`. `file_url` gives the URL of a course file
/// (by course path), or `None` to leave it out: a picture is then replaced by its alternative text and a
/// link by its text.
pub fn lesson(nodes: &[Node], file_url: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::from(r#"<article class="lesson-body">"#);
    Writer { out: &mut out, file_url }.nodes(nodes);
    out.push_str("</article>");
    out
}

struct Writer<'a> {
    out: &'a mut String,
    file_url: &'a dyn Fn(&str) -> Option<String>,
}

impl Writer<'_> {
    fn nodes(&mut self, nodes: &[Node]) {
        for node in nodes {
            match node {
                Node::Text(text) => escape_into(self.out, text),
                Node::Element(kind, children) => self.element(kind, children),
            }
        }
    }

    fn wrap(&mut self, open: &str, children: &[Node], close: &str) {
        self.out.push_str(open);
        self.nodes(children);
        self.out.push_str(close);
    }

    fn element(&mut self, kind: &Kind, children: &[Node]) {
        match kind {
            Kind::Paragraph => self.wrap("<p>", children, "</p>"),
            Kind::Heading(level) => {
                let level = level.clamp(&1, &6);
                self.wrap(&format!("<h{level}>"), children, &format!("</h{level}>"));
            }
            Kind::BlockQuote => self.wrap("<blockquote>", children, "</blockquote>"),
            Kind::CodeBlock => self.wrap("<pre><code>", children, "</code></pre>"),
            Kind::List(Some(start)) => self.wrap(&format!(r#"<ol start="{start}">"#), children, "</ol>"),
            Kind::List(None) => self.wrap("<ul>", children, "</ul>"),
            Kind::Item => self.wrap("<li>", children, "</li>"),
            Kind::Emphasis => self.wrap("<em>", children, "</em>"),
            Kind::Strong => self.wrap("<strong>", children, "</strong>"),
            Kind::Strikethrough => self.wrap("<del>", children, "</del>"),
            Kind::Code => self.wrap("<code>", children, "</code>"),
            Kind::Rule => self.out.push_str("<hr>"),
            Kind::LineBreak => self.out.push_str("<br>"),
            Kind::Table => self.table(children),
            Kind::TableHead | Kind::TableRow => self.wrap("<tr>", children, "</tr>"),
            Kind::TableCell => self.wrap("<td>", children, "</td>"),
            Kind::Link(Target::External(url)) => {
                let open = format!(r#"<a href="{}" target="_blank" rel="noopener noreferrer">"#, escape(url));
                self.wrap(&open, children, "</a>");
            }
            // A course file is downloaded, never opened as a page of the app's origin (the worker serves
            // it as an attachment too).
            Kind::Link(Target::CourseFile(path)) => match (self.file_url)(path) {
                Some(url) => self.wrap(&format!(r#"<a href="{}" download>"#, escape(&url)), children, "</a>"),
                None => self.nodes(children),
            },
            Kind::Image { path, alt } => match (self.file_url)(path) {
                Some(url) => {
                    let image = format!(r#"<img src="{}" alt="{}" loading="lazy">"#, escape(&url), escape(alt));
                    self.out.push_str(&image);
                }
                None => escape_into(self.out, alt),
            },
        }
    }

    fn table(&mut self, rows: &[Node]) {
        self.out.push_str(r#"<div class="table-scroll"><table>"#);
        let body = match rows.split_first() {
            Some((Node::Element(Kind::TableHead, cells), body)) => {
                self.out.push_str("<thead><tr>");
                for cell in cells {
                    match cell {
                        Node::Element(Kind::TableCell, inner) => self.wrap(r#"<th scope="col">"#, inner, "</th>"),
                        other => self.nodes(std::slice::from_ref(other)),
                    }
                }
                self.out.push_str("</tr></thead>");
                body
            }
            _ => rows,
        };
        self.wrap("<tbody>", body, "</tbody></table></div>");
    }
}

/// `text` with `& < > " '` escaped, safe in element content and in quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// The address fragment of lesson `index` (0-based) without its `#`: `/lecon/1` is the first lesson.
/// The app routes on it, and the early lessons of [`page_with_lessons`] carry it as their `id`.
pub fn lesson_fragment(index: usize) -> String {
    format!("/lecon/{}", index + 1)
}

/// The manifest URL, as written (relative to the page), in the page's config block
/// `<script type="application/json" id="cartable-config">{"manifest": …}</script>`.
pub fn config_manifest(page: &str) -> Option<String> {
    let block = &page[page.find(r#"id="cartable-config""#)?..];
    let body = &block[block.find('>')? + 1..];
    let json = &body[..body.find("</script>")?];
    // Typed, not `serde_json::Value`, and read from bytes as every other JSON the service worker reads
    // (`from_str` would be a second copy of the whole parser in its bundle): the worker stays small.
    #[derive(serde::Deserialize)]
    struct Config {
        manifest: String,
    }
    Some(serde_json::from_slice::<Config>(json.as_bytes()).ok()?.manifest)
}

/// `page` with `lessons` (lesson index, its [`lesson`] HTML) put just before the app's root
/// `<main id="cartable"`, so that the browser shows the lesson the address names (`#/lecon/2`) as soon
/// as it is parsed, long before the app starts: each is a hidden section whose `id` is its fragment, and
/// a short inline script, run as the parser reaches it, unhides the one the address names (CSS `:target`
/// would wait for the whole page to load). The app's root is hidden meanwhile. The app removes them once
/// it has rendered. `None` when the page has no such root.
pub fn page_with_lessons(page: &str, lessons: &[(usize, String)]) -> Option<String> {
    let root = page.find(r#"<main id="cartable""#)?;
    // Pushed piece by piece rather than formatted: the worker's size is counted in bytes.
    let mut early = String::from(r#"<div class="cartable-prerender"><style>"#);
    early.push_str(EARLY_STYLE);
    early.push_str("</style>");
    for (index, html) in lessons {
        early.push_str(&format!(r#"<section id="{}" hidden>{html}</section>"#, escape(&lesson_fragment(*index))));
    }
    early.push_str("<script>");
    early.push_str(EARLY_SCRIPT);
    early.push_str("</script></div>\n  ");
    Some(format!("{}{early}{}", &page[..root], &page[root..]))
}

/// The one inline style [`page_with_lessons`] puts in the page: the app's root is hidden while a stored
/// lesson shows. A Content-Security-Policy allows it by its hash ([`csp_hash`]).
pub const EARLY_STYLE: &str = "body:has(.cartable-prerender>section:not([hidden])) #cartable{display:none}";

/// The one inline script [`page_with_lessons`] puts in the page: it unhides the lesson the address names.
/// A Content-Security-Policy allows it by its hash ([`csp_hash`]).
pub const EARLY_SCRIPT: &str = concat!(
    "try{var s=document.getElementById(decodeURIComponent(location.hash.slice(1)));",
    r#"if(s&&s.parentNode.className==="cartable-prerender")s.hidden=false}catch(e){}"#
);

/// The Content-Security-Policy source that allows exactly the inline script or style `text`:
/// `'sha256-<base64 of its SHA-256>'`.
pub fn csp_hash(text: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(text.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown;

    fn render(source: &str) -> String {
        let nodes = markdown::parse("lessons/01.md", source).nodes;
        lesson(&nodes, &|path| (path != "images/absent.png").then(|| format!("/files/{path}")))
    }

    #[test]
    fn renders_the_lesson_structure() {
        let html = render("# Titre\n\nUn *texte* et `U = R × I`.\n\n| U | I |\n|---|---|\n| 6 V | 0,2 A |\n");
        let expected = concat!(
            r#"<article class="lesson-body"><h1>Titre</h1><p>Un <em>texte</em> et <code>U = R × I</code>.</p>"#,
            r#"<div class="table-scroll"><table><thead><tr><th scope="col">U</th><th scope="col">I</th></tr></thead>"#,
            r#"<tbody><tr><td>6 V</td><td>0,2 A</td></tr></tbody></table></div></article>"#,
        );
        assert_eq!(html, expected);
    }

    #[test]
    fn pictures_and_links_use_the_urls_given() {
        let html = render("![Le circuit](../images/c.svg) [fiche](../docs/f.pdf) ![absente](../images/absent.png)");
        assert!(html.contains(r#"<img src="/files/images/c.svg" alt="Le circuit" loading="lazy">"#), "{html}");
        assert!(html.contains(r#"<a href="/files/docs/f.pdf" download>fiche</a>"#), "{html}");
        assert!(html.contains("absente") && !html.contains("absent.png"), "{html}");
    }

    #[test]
    fn nothing_hostile_survives() {
        for source in [
            "<script>alert(1)</script> <img src=x onerror=alert(1)>",
            "Texte <b onmouseover=\"alert(1)\">gras</b> &lt;script&gt;",
            "[x](javascript:alert(1)) [y](data:text/html,<script>alert(1)</script>)",
            "![a\" onerror=\"alert(1)](../images/c.svg)",
            "[lien](https://a.example/\"onmouseover=alert(1)) ",
            "`</code><script>alert(1)</script>`",
            "```\n</pre><img src=x onerror=alert(1)>\n```",
        ] {
            let html = render(source);
            for tag in tags(&html) {
                let mut words = tag.split_whitespace();
                let name = words.next().unwrap_or_default().trim_start_matches('/');
                assert!(ALLOWED.contains(&name), "element {name} from {source}: {html}");
                for attribute in words {
                    let attribute = attribute.split('=').next().unwrap_or_default();
                    assert!(ATTRIBUTES.contains(&attribute), "attribute {attribute} from {source}: {html}");
                }
            }
            let lower = html.to_ascii_lowercase();
            assert!(!lower.contains("javascript:") && !lower.contains("data:text"), "{source}: {html}");
        }
    }

    const ALLOWED: &[&str] = &[
        "article", "p", "h1", "em", "strong", "code", "pre", "a", "img", "div", "table", "thead", "tbody", "tr", "th",
        "td",
    ];
    const ATTRIBUTES: &[&str] = &["class", "href", "src", "alt", "loading", "target", "rel", "scope", "download"];

    /// The inside of every tag, with quoted values emptied: content quotes are escaped, so a `"` in the
    /// output can only delimit an attribute value.
    fn tags(html: &str) -> Vec<String> {
        let mut unquoted = String::new();
        for (index, part) in html.split('"').enumerate() {
            unquoted.push_str(if index % 2 == 0 { part } else { "" });
        }
        unquoted.split('<').skip(1).map(|tag| tag.split('>').next().unwrap_or_default().to_owned()).collect()
    }

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(escape(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }

    const PAGE: &str = concat!(
        "<head><script type=\"application/json\" id=\"cartable-config\">\n",
        "  {\"manifest\": \"courses/physique-3e/manifest.json\", \"key\": \"ed25519:AAAA\"}\n",
        "</script></head><body><main id=\"cartable\" aria-live=\"polite\"></main></body>"
    );

    #[test]
    fn the_config_block_names_the_manifest() {
        assert_eq!(config_manifest(PAGE).as_deref(), Some("courses/physique-3e/manifest.json"));
        assert_eq!(config_manifest("<main id=\"cartable\"></main>"), None);
        let broken = PAGE.replace("\"key\"", "key");
        assert_eq!(config_manifest(&broken), None);
        // A page cut short, or written by hand: no block, never a panic.
        for page in [
            "id=\"cartable-config\"</script>",
            "id=\"cartable-config\"",
            "id=\"cartable-config\">{\"manifest\": \"x\"}",
        ] {
            assert_eq!(config_manifest(page), None, "{page}");
        }
    }

    #[test]
    fn early_lessons_go_before_the_root_each_under_its_fragment() {
        let lessons = [(0, lesson(&[], &|_| None)), (2, "<article>trois</article>".to_owned())];
        let page = page_with_lessons(PAGE, &lessons).unwrap();
        let early = page.find(r#"<div class="cartable-prerender">"#).unwrap();
        assert!(early > page.find("<body>").unwrap() && early < page.find(r#"<main id="cartable""#).unwrap());
        assert!(page.contains(r#"<section id="/lecon/1" hidden><article class="lesson-body"></article></section>"#));
        assert!(page.contains(r#"<section id="/lecon/3" hidden><article>trois</article></section>"#));
        assert!(page.contains("location.hash"));
        assert_eq!(page_with_lessons("<body></body>", &lessons), None);
    }
}
