//! One lesson: its published tree fetched and verified, read back by the core, its pictures and files loaded.

use cartable_core::markdown::{self, Node};
use futures::future::join_all;
use yew::prelude::*;

use crate::course::LoadError;
use crate::view::error::ErrorPanel;
use crate::view::load::{use_load, Load};
use crate::view::nodes::{course_files, Assets, LessonBody};
use crate::view::route::Route;
use crate::view::Ctx;

/// Properties of [`LessonPage`].
#[derive(Properties, PartialEq)]
pub struct LessonProps {
    /// The course.
    pub ctx: Ctx,
    /// Index of the lesson in the manifest.
    pub index: usize,
}

/// A lesson page. Text appears as soon as it is verified; a picture that fails shows its own error.
#[function_component]
pub fn LessonPage(props: &LessonProps) -> Html {
    let text = props.ctx.lang.text();
    let lesson = use_load((props.ctx.clone(), props.index), |(ctx, index)| async move {
        let lesson =
            ctx.course.manifest.lessons.get(index).ok_or(LoadError::NotInCourse { path: index.to_string() })?;
        let bytes = ctx.course.file(&lesson.body).await?;
        // The bytes matched the signed manifest, so a tree that does not read is the packer's fault.
        markdown::from_json(&bytes).map_err(|_| LoadError::Corrupted { path: lesson.body.clone() })
    });
    let body = match &*lesson {
        Load::Loading => html! { <p class="loading">{ text.loading_file }</p> },
        Load::Failed(LoadError::NotInCourse { .. }) => return html! { <p>{ text.no_such_lesson }</p> },
        Load::Failed(error) => html! { <ErrorPanel error={error.clone()} lang={props.ctx.lang} /> },
        Load::Ready(nodes) => html! { <LessonWithFiles ctx={props.ctx.clone()} nodes={nodes.clone()} /> },
    };
    let exercises = props.ctx.course.manifest.lessons.get(props.index).and_then(|lesson| lesson.exercises.as_ref());
    html! {
        <>
            { body }
            if exercises.is_some() {
                <p class="to-exercises"><a href={Route::Exercises(props.index).href()}>{ text.exercises_of }{ " →" }</a></p>
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct FilesProps {
    ctx: Ctx,
    nodes: Vec<Node>,
}

#[function_component]
fn LessonWithFiles(props: &FilesProps) -> Html {
    let assets = use_load((props.ctx.clone(), props.nodes.clone()), |(ctx, nodes)| async move {
        Ok(load_assets(&ctx, course_files(&nodes)).await)
    });
    let assets = match &*assets {
        Load::Ready(assets) => assets.clone(),
        _ => Assets::new(),
    };
    html! { <LessonBody nodes={props.nodes.clone()} {assets} lang={props.ctx.lang} /> }
}

/// Loads every course file in `paths`, each verified; one failure does not stop the others.
pub async fn load_assets(ctx: &Ctx, paths: Vec<String>) -> Assets {
    let loads = paths.into_iter().map(|path| async move {
        let media_type = ctx.course.manifest.file(&path).map(|f| f.media_type.clone()).unwrap_or_default();
        // Audio and video seek: the worker answers byte ranges from stored chunks, without loading all.
        let streamed = cartable_core::media::is_playable(&media_type);
        let url = match streamed && crate::worker::controlled() {
            true => ctx.course.worker_url(&path),
            false => ctx.course.object_url(&path).await,
        };
        (path, url.map(|url| (url, media_type)))
    });
    join_all(loads).await.into_iter().collect()
}
