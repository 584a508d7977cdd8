//! A page whose code is a part of the app loaded when first needed (`crate::parts`): "Chargement…"
//! while the part comes, then the page; a part that cannot be fetched is said, with a retry.

use yew::prelude::*;

use crate::course::LoadError;
use crate::parts;
use crate::view::error::ErrorPanel;
use crate::view::load::{use_load, Load};
use crate::view::Ctx;

/// The pages that live in a part of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartPage {
    /// The exercise page of a lesson, by index in the manifest.
    Exercises(usize),
    /// "Mon travail".
    Work,
}

/// Properties of [`Part`].
#[derive(Properties, PartialEq)]
pub struct PartProps {
    /// The course.
    pub ctx: Ctx,
    /// The page to show.
    pub page: PartPage,
}

/// `props.page`, once its part is loaded.
#[function_component]
pub fn Part(props: &PartProps) -> Html {
    let attempt = use_state(|| 0u32);
    let page = use_load((props.ctx.clone(), props.page, *attempt), |(ctx, page, _)| async move {
        let loaded = match page {
            PartPage::Exercises(index) => parts::exercises_page(ctx, index).await,
            PartPage::Work => parts::work_page(ctx).await,
        };
        loaded.map_err(|_| LoadError::PartUnloaded)
    });
    match &*page {
        Load::Loading => html! { <p class="loading">{ props.ctx.lang.text().loading_file }</p> },
        Load::Ready(page) => page.clone(),
        Load::Failed(error) => {
            let retry = Callback::from(move |_| attempt.set(*attempt + 1));
            html! { <ErrorPanel error={error.clone()} lang={props.ctx.lang} on_retry={retry} /> }
        }
    }
}
