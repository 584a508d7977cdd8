use super::*;

const LESSON: &str = "lessons/01-tension.md";

fn text(s: &str) -> Node {
    Node::Text(s.into())
}

fn element(kind: Kind, children: Vec<Node>) -> Node {
    Node::Element(kind, children)
}

/// Every link and image in `nodes`, depth first.
fn kinds(nodes: &[Node]) -> Vec<Kind> {
    let mut out = Vec::new();
    for node in nodes {
        if let Node::Element(kind, children) = node {
            if matches!(kind, Kind::Link(_) | Kind::Image { .. }) {
                out.push(kind.clone());
            }
            out.extend(kinds(children));
        }
    }
    out
}

/// Parses `source` and asserts nothing in it can run script or load from elsewhere.
#[track_caller]
fn check_safe(source: &str) -> Document {
    let document = parse(LESSON, source);
    for kind in kinds(&document.nodes) {
        match kind {
            Kind::Link(Target::External(url)) => {
                let lower = url.to_ascii_lowercase();
                assert!(["http://", "https://", "mailto:"].iter().any(|p| lower.starts_with(p)), "{url}");
            }
            Kind::Link(Target::CourseFile(path)) | Kind::Image { path, .. } => {
                assert!(!path.contains(':') && !path.starts_with('/'), "{path}");
            }
            _ => {}
        }
    }
    let all_text = plain_text(&document.nodes).to_ascii_lowercase();
    assert!(!all_text.contains("<script") && !all_text.contains("onerror="), "{all_text}");
    document
}

#[test]
fn renders_the_lesson_structure() {
    let document = check_safe("# La tension\n\nUne *tension* se mesure en **volts**.\n\n- U\n- I\n");
    assert_eq!(document.title.as_deref(), Some("La tension"));
    assert_eq!(
        document.nodes,
        vec![
            element(Kind::Heading(1), vec![text("La tension")]),
            element(
                Kind::Paragraph,
                vec![
                    text("Une "),
                    element(Kind::Emphasis, vec![text("tension")]),
                    text(" se mesure en "),
                    element(Kind::Strong, vec![text("volts")]),
                    text("."),
                ]
            ),
            element(Kind::List(None), vec![element(Kind::Item, vec![text("U")]), element(Kind::Item, vec![text("I")])]),
        ]
    );
}

#[test]
fn images_and_links_resolve_to_course_files() {
    let source =
        "# T\n\n![Un circuit](../images/circuit.svg \"titre\")\n\n[La fiche](../docs/fiche%20ohm.pdf#page=2)\n";
    let document = check_safe(source);
    let image = Kind::Image { path: "images/circuit.svg".into(), alt: "Un circuit".into() };
    let link = Kind::Link(Target::CourseFile("docs/fiche ohm.pdf".into()));
    assert_eq!(kinds(&document.nodes), vec![image, link]);
    let lines: Vec<usize> = document.references.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![3, 5]);
}

#[test]
fn tables_are_kept() {
    let document = check_safe("| U | I |\n|---|---|\n| 6 V | 0,2 A |\n");
    let Node::Element(Kind::Table, rows) = &document.nodes[0] else { panic!("{:?}", document.nodes) };
    assert!(matches!(rows[0], Node::Element(Kind::TableHead, _)));
    assert_eq!(plain_text(&rows[1..]), "6 V0,2 A");
}

#[test]
fn raw_html_never_gets_through() {
    for payload in [
        "<script>alert(1)</script>",
        "Texte <img src=x onerror=alert(1)> suite",
        "<div onclick=\"alert(1)\">clic</div>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<svg><script>alert(1)</script></svg>",
        "<a href=\"javascript:alert(1)\">lien</a>",
        "<style>body{display:none}</style>",
    ] {
        let document = check_safe(payload);
        assert!(kinds(&document.nodes).is_empty(), "{payload}: {:?}", document.nodes);
        assert!(!plain_text(&document.nodes).contains('<'), "{payload}: {:?}", document.nodes);
    }
}

#[test]
fn script_links_keep_only_their_text() {
    for payload in [
        "[clic](javascript:alert(1))",
        "[clic](JaVaScRiPt:alert(1))",
        "[clic](java\tscript:alert(1))",
        "[clic](&#106;avascript:alert(1))",
        "[clic](&#x6A;avascript&#x3A;alert(1))",
        "[clic](%20javascript:alert(1))",
        "[clic](<javascript:alert(1)>)",
        "[clic](vbscript:msgbox(1))",
        "[clic](data:text/html,<script>alert(1)</script>)",
        "[clic](file:///etc/passwd)",
        "[clic][x]\n\n[x]: javascript:alert(1)",
        "[clic](//evil.example/x)",
    ] {
        let document = check_safe(payload);
        assert!(kinds(&document.nodes).is_empty(), "{payload}: {:?}", document.nodes);
        assert!(plain_text(&document.nodes).contains("clic"), "{payload}");
        // Some of these are not even links to CommonMark; those that are must be refused.
        assert!(document.references.iter().all(|r| r.target.is_none()), "{payload}");
    }
    let autolink = check_safe("<javascript:alert(1)>");
    assert!(kinds(&autolink.nodes).is_empty());
}

#[test]
fn images_come_only_from_course_files() {
    for payload in [
        "![pixel](https://tracker.example/p.png)",
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        "![x](javascript:alert(1))",
        "![x](/etc/passwd)",
        "![x](../../../secret.png)",
    ] {
        let document = check_safe(payload);
        assert!(kinds(&document.nodes).is_empty(), "{payload}: {:?}", document.nodes);
        assert_eq!(document.references[0].target, None, "{payload}");
    }
}

#[test]
fn safe_external_links_are_kept() {
    let document = check_safe("[EDF](https://www.edf.fr/) et [écrire](mailto:prof@college.fr)");
    let expected = vec![
        Kind::Link(Target::External("https://www.edf.fr/".into())),
        Kind::Link(Target::External("mailto:prof@college.fr".into())),
    ];
    assert_eq!(kinds(&document.nodes), expected);
}

#[test]
fn email_autolinks_are_addresses_to_write_to() {
    let document = check_safe("Écrivez à <eleve@example.org> ou <https://www.edf.fr/>.");
    let expected = vec![
        Kind::Link(Target::External("mailto:eleve@example.org".into())),
        Kind::Link(Target::External("https://www.edf.fr/".into())),
    ];
    assert_eq!(kinds(&document.nodes), expected);
}

/// The deepest element nesting of `nodes`.
fn depth(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .map(|node| match node {
            Node::Element(_, children) => 1 + depth(children),
            Node::Text(_) => 0,
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn a_lesson_nested_past_the_bound_keeps_its_text_and_reads_back() {
    let quotes = format!("# T\n\n{}au fond [lien](https://x.example/)\n", "> ".repeat(200));
    let lists: String = (0..100).map(|level| format!("{}- niveau {level}\n", "  ".repeat(level))).collect();
    for source in [quotes, lists] {
        let document = parse(LESSON, &source);
        assert!(depth(&document.nodes) <= MAX_DEPTH + 2, "depth {}", depth(&document.nodes));
        assert_eq!(from_json(&to_json(&document.nodes)).unwrap(), document.nodes, "it reads back as it was packed");
        let text = plain_text(&document.nodes);
        assert!(text.contains("au fond") || text.contains("niveau 99"), "no text is lost: {text}");
    }
}

#[test]
fn links_are_placed_on_their_line() {
    let source: String = (0..5_000).map(|n| format!("ligne {n} [f](https://x.example/{n})\n\n")).collect();
    let document = parse(LESSON, &source);
    let lines: Vec<usize> = document.references.iter().map(|reference| reference.line).collect();
    assert_eq!(lines.len(), 5_000);
    assert!(lines.iter().enumerate().all(|(n, &line)| line == 2 * n + 1), "{:?}", &lines[..4]);
}

#[test]
fn heading_attributes_are_plain_text() {
    let document = check_safe("# Titre {onclick=alert(1)}\n");
    assert_eq!(document.title.as_deref(), Some("Titre {onclick=alert(1)}"));
}

#[test]
fn the_published_tree_reads_back_unchanged() {
    let source = "# T\n\n![a](../images/a.svg) [b](../docs/b.pdf) [c](https://c.example/)\n\n| x |\n|---|\n| 1 |\n\n1. un\n2. deux\n";
    let document = parse(LESSON, source);
    assert_eq!(from_json(&to_json(&document.nodes)).unwrap(), document.nodes);
}

#[track_caller]
fn check_sanitized(json: &str, expected: Vec<Node>) {
    assert_eq!(from_json(json.as_bytes()).unwrap(), expected);
}

#[test]
fn a_hostile_published_tree_is_disarmed_on_reading() {
    let link = |target: &str| format!(r#"[{{"Element":[{{"Link":{target}}},[{{"Text":"clic"}}]]}}]"#);
    check_sanitized(&link(r#"{"External":"javascript:alert(1)"}"#), vec![text("clic")]);
    check_sanitized(&link(r#"{"External":"data:text/html,x"}"#), vec![text("clic")]);
    check_sanitized(&link(r#"{"External":" https://x.example/"}"#), vec![text("clic")]);
    check_sanitized(&link(r#"{"CourseFile":"../../etc/passwd"}"#), vec![text("clic")]);
    check_sanitized(&link(r#"{"CourseFile":"javascript:alert(1)"}"#), vec![text("clic")]);
    let image =
        |path: &str| format!(r#"[{{"Element":[{{"Image":{{"path":"{path}","alt":"un schéma"}}}},[{{"Text":"x"}}]]}}]"#);
    check_sanitized(&image("/etc/passwd"), vec![text("un schéma")]);
    check_sanitized(&image("https://pixel.example/p.png"), vec![text("un schéma")]);
    let kept = Kind::Image { path: "images/a.svg".into(), alt: "un schéma".into() };
    check_sanitized(&image("images/a.svg"), vec![element(kept, vec![])]);
    check_sanitized(r#"[{"Element":[{"Heading":99},[]]}]"#, vec![element(Kind::Heading(6), vec![])]);
    assert!(from_json(br#"[{"Element":["Script",[]]}]"#).is_err(), "no such element kind");
    assert!(from_json(br#"[{"Html":"<script>"}]"#).is_err(), "no raw HTML node");
}

#[test]
fn course_files_are_listed_once_in_order() {
    let source = "![a](../images/a.svg) [b](../docs/b.pdf) ![a again](../images/a.svg) [web](https://x.example/)";
    assert_eq!(course_files(&parse(LESSON, source).nodes), ["images/a.svg", "docs/b.pdf"]);
}
