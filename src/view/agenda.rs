//! The homework agenda ("cahier de textes"), sorted by due date, with its attachments.

use cartable_core::manifest::Homework;
use cartable_core::Manifest;
use yew::prelude::*;

use crate::i18n::long_date;
use crate::view::lesson::load_assets;
use crate::view::load::{use_load, Load};
use crate::view::Ctx;

/// The agenda in due-date order; homework due the same day keeps the teacher's order.
pub fn sorted_agenda(manifest: &Manifest) -> Vec<&Homework> {
    let mut agenda: Vec<&Homework> = manifest.agenda.iter().collect();
    agenda.sort_by_key(|homework| homework.due);
    agenda
}

/// Properties of [`AgendaPage`].
#[derive(Properties, PartialEq)]
pub struct AgendaProps {
    /// The course.
    pub ctx: Ctx,
}

/// The agenda page.
#[function_component]
pub fn AgendaPage(props: &AgendaProps) -> Html {
    crate::view::prerender::use_retire_early_lesson();
    let (manifest, lang) = (&props.ctx.course.manifest, props.ctx.lang);
    let text = lang.text();
    let assets = use_load(props.ctx.clone(), |ctx| async move {
        let paths = ctx.course.manifest.agenda.iter().flat_map(|h| h.attachments.clone()).collect();
        Ok(load_assets(&ctx, paths).await)
    });
    let attachment = |path: &String| -> Html {
        let name = path.rsplit('/').next().unwrap_or(path).to_owned();
        match &*assets {
            Load::Ready(assets) => match assets.get(path) {
                Some(Ok((url, _))) => html! { <li><a href={url.clone()} download={name.clone()}>{ name }</a></li> },
                Some(Err(error)) => {
                    let (title, _) = crate::view::error::describe(error, lang);
                    html! { <li class="file-error" role="alert">{ name }{ " : " }{ title }</li> }
                }
                None => html! { <li>{ name }</li> },
            },
            _ => html! { <li class="pending">{ name }</li> },
        }
    };
    let rows = sorted_agenda(manifest).into_iter().map(|homework| {
        html! {
            <tr>
                <th scope="row"><time datetime={homework.due.to_string()}>{ long_date(homework.due, lang) }</time></th>
                <td>{ &homework.subject }</td>
                <td>{ &homework.task }</td>
                <td><ul class="attachments">{ for homework.attachments.iter().map(attachment) }</ul></td>
            </tr>
        }
    });
    html! {
        <section class="agenda">
            <h2>{ text.agenda }</h2>
            if manifest.agenda.is_empty() {
                <p>{ text.no_homework }</p>
            } else {
                <div class="table-scroll"><table>
                    <thead><tr>
                        <th scope="col">{ text.due }</th><th scope="col">{ text.subject }</th>
                        <th scope="col">{ text.task }</th><th scope="col">{ text.attachments }</th>
                    </tr></thead>
                    <tbody>{ for rows }</tbody>
                </table></div>
            }
        </section>
    }
}
