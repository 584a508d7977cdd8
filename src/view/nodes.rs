//! Renders the core's safe lesson tree with Yew. Every element here comes from a closed list; text is
//! always a text node; only addresses the core accepted, or `blob:` URLs of verified files, become links.

use std::collections::HashMap;

pub use cartable_core::markdown::course_files;
use cartable_core::markdown::{Kind, Node, Target};
use yew::prelude::*;

use crate::course::LoadError;
use crate::i18n::Lang;
use crate::view::error::describe;

/// A course file made ready for the page: its `blob:` URL and media type, or why it is not available.
pub type Asset = Result<(String, String), LoadError>;

/// Course files referenced by a lesson, by course path.
pub type Assets = HashMap<String, Asset>;

/// Properties of [`LessonBody`].
#[derive(Properties, PartialEq)]
pub struct LessonBodyProps {
    /// The lesson tree.
    pub nodes: Vec<Node>,
    /// The files it refers to, as loaded so far.
    #[prop_or_default]
    pub assets: Assets,
    /// Interface language, for file error messages.
    pub lang: Lang,
}

/// The body of a lesson.
#[function_component]
pub fn LessonBody(props: &LessonBodyProps) -> Html {
    crate::view::prerender::use_retire_early_lesson();
    let render = Render { assets: &props.assets, lang: props.lang };
    html! { <article class="lesson-body">{ render.nodes(&props.nodes) }</article> }
}

struct Render<'a> {
    assets: &'a Assets,
    lang: Lang,
}

impl Render<'_> {
    fn nodes(&self, nodes: &[Node]) -> Html {
        nodes.iter().map(|node| self.node(node)).collect()
    }

    fn node(&self, node: &Node) -> Html {
        match node {
            Node::Text(text) => html! { { text.clone() } },
            Node::Element(kind, children) => self.element(kind, children),
        }
    }

    fn element(&self, kind: &Kind, children: &[Node]) -> Html {
        let inner = self.nodes(children);
        match kind {
            Kind::Paragraph => html! { <p>{ inner }</p> },
            Kind::Heading(level) => html! { <@{format!("h{}", level.clamp(&1, &6))}>{ inner }</@> },
            Kind::BlockQuote => html! { <blockquote>{ inner }</blockquote> },
            Kind::CodeBlock => html! { <pre><code>{ inner }</code></pre> },
            Kind::List(Some(start)) => html! { <ol start={start.to_string()}>{ inner }</ol> },
            Kind::List(None) => html! { <ul>{ inner }</ul> },
            Kind::Item => html! { <li>{ inner }</li> },
            Kind::Emphasis => html! { <em>{ inner }</em> },
            Kind::Strong => html! { <strong>{ inner }</strong> },
            Kind::Strikethrough => html! { <del>{ inner }</del> },
            Kind::Code => html! { <code>{ inner }</code> },
            Kind::Rule => html! { <hr /> },
            Kind::LineBreak => html! { <br /> },
            Kind::Table => self.table(children),
            Kind::TableHead | Kind::TableRow => html! { <tr>{ inner }</tr> },
            Kind::TableCell => html! { <td>{ inner }</td> },
            Kind::Link(Target::External(url)) => html! {
                <a href={url.clone()} target="_blank" rel="noopener noreferrer">{ inner }</a>
            },
            Kind::Link(Target::CourseFile(path)) => self.file_link(path, inner),
            Kind::Image { path, alt } => self.image(path, alt),
        }
    }

    fn table(&self, rows: &[Node]) -> Html {
        let (head, body) = match rows.split_first() {
            Some((Node::Element(Kind::TableHead, cells), body)) => (Some(cells), body),
            _ => (None, rows),
        };
        let head_cells = |cells: &Vec<Node>| -> Html {
            cells
                .iter()
                .map(|cell| match cell {
                    Node::Element(Kind::TableCell, inner) => html! { <th scope="col">{ self.nodes(inner) }</th> },
                    other => self.node(other),
                })
                .collect()
        };
        html! {
            <div class="table-scroll"><table>
                if let Some(cells) = head { <thead><tr>{ head_cells(cells) }</tr></thead> }
                <tbody>{ self.nodes(body) }</tbody>
            </table></div>
        }
    }

    fn image(&self, path: &str, alt: &str) -> Html {
        match self.assets.get(path) {
            Some(Ok((url, _))) => html! { <img src={url.clone()} alt={alt.to_owned()} loading="lazy" /> },
            Some(Err(error)) => self.file_error(error),
            None => {
                html! { <span class="pending" role="img" aria-label={alt.to_owned()}>{ self.lang.text().loading_file }</span> }
            }
        }
    }

    fn file_link(&self, path: &str, inner: Html) -> Html {
        let name = path.rsplit('/').next().unwrap_or(path).to_owned();
        match self.assets.get(path) {
            Some(Ok((url, media_type))) if media_type.starts_with("audio/") => html! {
                <span class="media">
                    <a href={url.clone()} download={name}>{ inner }</a>
                    <audio controls=true preload="metadata" src={url.clone()}></audio>
                </span>
            },
            Some(Ok((url, _))) => html! { <a href={url.clone()} download={name}>{ inner }</a> },
            Some(Err(error)) => html! { <>{ inner }{ self.file_error(error) }</> },
            None => html! { <span class="pending">{ inner }</span> },
        }
    }

    fn file_error(&self, error: &LoadError) -> Html {
        let (title, body) = describe(error, self.lang);
        html! { <span class="file-error" role="alert"><strong>{ title }</strong>{ " " }{ body }</span> }
    }
}
