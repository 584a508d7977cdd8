//! A page whose code is a part of the app loaded when first needed (`crate::parts`): "Chargement…"
//! while the part comes, then the page; a part that cannot be fetched is said, with a retry.

use std::rc::Rc;

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

/// `props.page`, once its part is loaded. The part is asked for once per page (and again on "retry"), not
/// when the course's context changes: the page then keeps its state (answers being typed, say).
#[function_component]
pub fn Part(props: &PartProps) -> Html {
    let attempt = use_state(|| 0u32);
    let draw = use_load((props.page, *attempt), |(page, _)| async move {
        let draw: Rc<dyn Fn(Ctx) -> Html> = match page {
            PartPage::Exercises(index) => {
                let draw = parts::exercises_page().await.map_err(|_| LoadError::PartUnloaded)?;
                Rc::new(move |ctx| draw(ctx, index))
            }
            PartPage::Work => {
                let draw = parts::work_page().await.map_err(|_| LoadError::PartUnloaded)?;
                Rc::new(move |ctx| draw(ctx, ()))
            }
        };
        Ok(draw)
    });
    match &*draw {
        Load::Loading => html! { <p class="loading">{ props.ctx.lang.text().loading_file }</p> },
        Load::Ready(draw) => draw(props.ctx.clone()),
        Load::Failed(error) => {
            let retry = Callback::from(move |_| attempt.set(*attempt + 1));
            html! { <ErrorPanel error={error.clone()} lang={props.ctx.lang} on_retry={retry} /> }
        }
    }
}
