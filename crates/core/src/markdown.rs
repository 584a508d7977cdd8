//! Lessons in Markdown become a closed tree of safe nodes. There is no raw HTML node and no attribute
//! map, so event attributes and scripts cannot be expressed; links and images are checked here.
//! Pure. `cartable pack` parses the Markdown and publishes the tree as JSON; the browser only reads that
//! JSON back through [`from_json`], which checks every address again, so a Markdown parser (about 68 KB
//! gzip) is never shipped to pupils.

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

use crate::path;

/// One node of a rendered lesson.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Node {
    /// Text, always shown as text (never parsed as HTML).
    Text(String),
    /// A structural element and its children.
    Element(Kind, Vec<Node>),
}

/// The elements a lesson may contain: nothing else can be rendered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// A paragraph.
    Paragraph,
    /// A heading of level 1 to 6.
    Heading(u8),
    /// A quoted block, such as "À retenir".
    BlockQuote,
    /// Preformatted code.
    CodeBlock,
    /// A list, ordered from `Some(start)` or bulleted.
    List(Option<u64>),
    /// A list item.
    Item,
    /// Emphasis.
    Emphasis,
    /// Strong emphasis.
    Strong,
    /// Struck-through text.
    Strikethrough,
    /// Inline code.
    Code,
    /// A link to a course file or to a safe external address.
    Link(Target),
    /// A picture from the course's files, with its alternative text.
    Image {
        /// Course path of the picture.
        path: String,
        /// Text for screen readers and for when the picture is missing.
        alt: String,
    },
    /// A horizontal rule.
    Rule,
    /// A hard line break.
    LineBreak,
    /// A table.
    Table,
    /// The header row group of a table.
    TableHead,
    /// A table row.
    TableRow,
    /// A table cell.
    TableCell,
}

/// Where a link goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// A file of the course, by course path: served from verified chunks.
    CourseFile(String),
    /// An `http:`, `https:` or `mailto:` address, opened outside the app.
    External(String),
}

/// A link or image found in a lesson, with its line, for validation at packing time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// 1-based line in the Markdown source.
    pub line: usize,
    /// True for an image, false for a link.
    pub is_image: bool,
    /// The address as written.
    pub written: String,
    /// What it resolved to; `None` when it is refused (unsafe scheme, outside the course folder, or an
    /// image that is not a course file).
    pub target: Option<Target>,
}

/// A parsed lesson.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The text of the first level-1 heading.
    pub title: Option<String>,
    /// The safe node tree.
    pub nodes: Vec<Node>,
    /// Every link and image, in order.
    pub references: Vec<Reference>,
}

/// Parses the Markdown of the course file at `path`. Raw HTML is dropped, refused links keep only their
/// text, refused images keep only their alternative text.
pub fn parse(path: &str, source: &str) -> Document {
    // Where each line starts, found once: a lesson with thousands of links reads in one pass.
    let line_starts = std::iter::once(0).chain(source.match_indices('\n').map(|(at, _)| at + 1)).collect();
    let mut builder = Builder { path, line_starts, stack: vec![Frame::root()], title: None, references: Vec::new() };
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for (event, range) in Parser::new_ext(source, options).into_offset_iter() {
        builder.event(event, range.start);
    }
    let nodes = builder.stack.swap_remove(0).children;
    Document { title: builder.title, nodes, references: builder.references }
}

/// Classifies an address written in the course file at `base`.
pub fn classify(base: &str, written: &str) -> Option<Target> {
    // Browsers ignore ASCII tabs, newlines and leading controls in URLs: judge what they would see.
    let cleaned: String = written.chars().filter(|c| !c.is_ascii_control() && *c != ' ').collect();
    let first_segment = cleaned.split(['/', '?', '#']).next().unwrap_or_default();
    if let Some((scheme, _)) = first_segment.split_once(':') {
        let safe = ["http", "https", "mailto"].iter().any(|s| s.eq_ignore_ascii_case(scheme));
        return safe.then(|| Target::External(cleaned.clone()));
    }
    if cleaned.starts_with("//") || cleaned.starts_with('#') || cleaned.is_empty() {
        return None;
    }
    let file_part = written.trim().split(['?', '#']).next().unwrap_or_default();
    path::resolve(base, &path::percent_decode(file_part)?).map(Target::CourseFile)
}

/// The tree as published: JSON of `nodes`.
pub fn to_json(nodes: &[Node]) -> Vec<u8> {
    // Serialising strings, integers and enums cannot fail.
    serde_json::to_vec(nodes).unwrap_or_default()
}

/// Reads a published tree and checks it again as [`parse`] would have built it: a link whose address is
/// not safe keeps only its text, a picture that is not a course file keeps only its alternative text.
/// The bytes were verified against the signed manifest; this guards against a packer that went wrong.
pub fn from_json(json: &[u8]) -> Result<Vec<Node>, serde_json::Error> {
    serde_json::from_slice(json).map(sanitize)
}

fn sanitize(nodes: Vec<Node>) -> Vec<Node> {
    nodes.into_iter().flat_map(sanitize_node).collect()
}

fn sanitize_node(node: Node) -> Vec<Node> {
    let Node::Element(kind, children) = node else { return vec![node] };
    let children = sanitize(children);
    match kind {
        Kind::Link(Target::External(url)) if classify("", &url) != Some(Target::External(url.clone())) => children,
        Kind::Link(Target::CourseFile(path)) if !is_course_path(&path) => children,
        Kind::Image { path, alt } if !is_course_path(&path) => vec![Node::Text(alt)],
        Kind::Image { path, alt } => vec![Node::Element(Kind::Image { path, alt }, Vec::new())],
        Kind::Heading(level) => vec![Node::Element(Kind::Heading(level.clamp(1, 6)), children)],
        kind => vec![Node::Element(kind, children)],
    }
}

/// True for a normalised course path: relative, no `.` or `..`, no empty segment, no scheme.
fn is_course_path(path: &str) -> bool {
    !path.contains(':') && path::resolve("", path).as_deref() == Some(path)
}

struct Frame {
    kind: Option<Kind>,
    children: Vec<Node>,
    /// For a link or image: what was written and what it resolved to.
    reference: Option<(String, Option<Target>)>,
}

impl Frame {
    fn root() -> Frame {
        Frame { kind: None, children: Vec::new(), reference: None }
    }
}

/// How deeply elements nest in a lesson's tree: below this, quotes and lists inside quotes and lists
/// keep their text and lose their frame, so that every lesson that packs also reads back (its JSON stays
/// well within the reader's nesting limit of 128).
pub const MAX_DEPTH: usize = 32;

struct Builder<'a> {
    path: &'a str,
    /// The byte offset at which each line of the source starts.
    line_starts: Vec<usize>,
    stack: Vec<Frame>,
    title: Option<String>,
    references: Vec<Reference>,
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, offset: usize) {
        match event {
            Event::Start(tag) => self.open(tag, offset),
            Event::End(end) => self.close(end),
            Event::Text(text) => self.push(Node::Text(text.into_string())),
            Event::Code(code) => self.push(Node::Element(Kind::Code, vec![Node::Text(code.into_string())])),
            Event::SoftBreak => self.push(Node::Text(" ".into())),
            Event::HardBreak => self.push(Node::Element(Kind::LineBreak, Vec::new())),
            Event::Rule => self.push(Node::Element(Kind::Rule, Vec::new())),
            // Raw HTML, footnotes, maths and task markers are not part of the lesson format.
            _ => {}
        }
    }

    fn open(&mut self, tag: Tag<'_>, offset: usize) {
        let mut frame = Frame::root();
        frame.kind = match tag {
            Tag::Paragraph => Some(Kind::Paragraph),
            Tag::Heading { level, .. } => Some(Kind::Heading(level as u8)),
            Tag::BlockQuote(_) => Some(Kind::BlockQuote),
            Tag::CodeBlock(_) => Some(Kind::CodeBlock),
            Tag::List(start) => Some(Kind::List(start)),
            Tag::Item => Some(Kind::Item),
            Tag::Emphasis => Some(Kind::Emphasis),
            Tag::Strong => Some(Kind::Strong),
            Tag::Strikethrough => Some(Kind::Strikethrough),
            Tag::Table(_) => Some(Kind::Table),
            Tag::TableHead => Some(Kind::TableHead),
            Tag::TableRow => Some(Kind::TableRow),
            Tag::TableCell => Some(Kind::TableCell),
            // `<eleve@example.org>`: an address to write to.
            Tag::Link { link_type: LinkType::Email, dest_url, .. } => {
                frame.reference = Some(self.reference(false, &format!("mailto:{dest_url}"), offset));
                None
            }
            Tag::Link { dest_url, .. } => {
                frame.reference = Some(self.reference(false, &dest_url, offset));
                None
            }
            Tag::Image { dest_url, .. } => {
                frame.reference = Some(self.reference(true, &dest_url, offset));
                None
            }
            // Unknown containers (HTML blocks, footnotes...) pass their text through, never their markup.
            _ => None,
        };
        if self.stack.len() > MAX_DEPTH {
            frame.kind = None; // too deep: its text joins the element around it
        }
        self.stack.push(frame);
    }

    fn reference(&mut self, is_image: bool, written: &str, offset: usize) -> (String, Option<Target>) {
        let mut target = classify(self.path, written);
        if is_image && !matches!(target, Some(Target::CourseFile(_))) {
            target = None; // pictures come from verified course files only
        }
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let reference = Reference { line, is_image, written: written.to_owned(), target: target.clone() };
        self.references.push(reference);
        (written.to_owned(), target)
    }

    fn close(&mut self, end: TagEnd) {
        if self.stack.len() < 2 {
            return; // unbalanced end: nothing open to close
        }
        let Some(frame) = self.stack.pop() else { return };
        let node = match (frame.kind, frame.reference) {
            (Some(kind), _) => Some(Node::Element(kind, frame.children)),
            (None, Some((_, Some(Target::CourseFile(path))))) if end == TagEnd::Image => {
                let alt = plain_text(&frame.children);
                Some(Node::Element(Kind::Image { path, alt }, Vec::new()))
            }
            (None, Some((_, _))) if end == TagEnd::Image => Some(Node::Text(plain_text(&frame.children))),
            (None, Some((_, Some(target)))) => Some(Node::Element(Kind::Link(target), frame.children)),
            (None, _) => {
                self.splice(frame.children);
                None
            }
        };
        if let Some(node) = node {
            if let (Node::Element(Kind::Heading(1), children), None) = (&node, &self.title) {
                self.title = Some(plain_text(children));
            }
            self.push(node);
        }
    }

    fn push(&mut self, node: Node) {
        if let Some(frame) = self.stack.last_mut() {
            frame.children.push(node);
        }
    }

    fn splice(&mut self, nodes: Vec<Node>) {
        if let Some(frame) = self.stack.last_mut() {
            frame.children.extend(nodes);
        }
    }
}

/// The course paths a tree refers to (pictures and links to course files), in order, without repeats.
pub fn course_files(nodes: &[Node]) -> Vec<String> {
    let mut paths = Vec::new();
    collect_course_files(nodes, &mut paths);
    paths
}

fn collect_course_files(nodes: &[Node], paths: &mut Vec<String>) {
    for node in nodes {
        if let Node::Element(kind, children) = node {
            if let Kind::Image { path, .. } | Kind::Link(Target::CourseFile(path)) = kind {
                if !paths.contains(path) {
                    paths.push(path.clone());
                }
            }
            collect_course_files(children, paths);
        }
    }
}

/// The text content of `nodes`, as a screen reader would read it.
pub fn plain_text(nodes: &[Node]) -> String {
    let mut out = String::new();
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Element(Kind::Image { alt, .. }, _) => out.push_str(alt),
            Node::Element(_, children) => out.push_str(&plain_text(children)),
        }
    }
    out
}

#[cfg(test)]
mod tests;
