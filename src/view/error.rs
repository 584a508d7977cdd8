//! Failures told in the pupil's language: what happened and what to do, never a Rust message.

use cartable_core::date::Date;
use cartable_core::ManifestError;
use yew::prelude::*;

use crate::course::LoadError;
use crate::i18n::{long_date, Lang};

/// The title and explanation for `error`.
pub fn describe(error: &LoadError, lang: Lang) -> (&'static str, String) {
    let text = lang.text();
    match error {
        LoadError::Unverified(ManifestError::Expired { expired_at }) => {
            let date = long_date(Date::from_unix(*expired_at), lang);
            (text.expired_title, text.expired_body.replace("{date}", &date))
        }
        LoadError::Unverified(ManifestError::Rollback { .. }) => (text.unverified_title, text.rollback_body.into()),
        // The part of the app that checks signatures where WebCrypto cannot did not come: not a bad course.
        LoadError::Unverified(ManifestError::Uncheckable) => (text.part_unloaded_title, text.part_unloaded_body.into()),
        LoadError::Unverified(_) => (text.unverified_title, text.unverified_body.into()),
        LoadError::Corrupted { path } => (text.corrupted_title, text.corrupted_body.replace("{path}", path)),
        LoadError::Unreachable(_) => (text.unreachable_title, text.unreachable_body.into()),
        LoadError::NotInCourse { path } => (text.missing_title, path.clone()),
        LoadError::NoWebCrypto => (text.no_webcrypto_title, text.no_webcrypto_body.into()),
        LoadError::StorageFull => (text.storage_full_title, text.storage_full_body.into()),
        LoadError::StorageUnavailable => (text.storage_unavailable_title, text.storage_unavailable.into()),
        LoadError::PartUnloaded => (text.part_unloaded_title, text.part_unloaded_body.into()),
    }
}

/// Properties of [`ErrorPanel`].
#[derive(Properties, PartialEq)]
pub struct ErrorProps {
    /// What went wrong.
    pub error: LoadError,
    /// Interface language.
    pub lang: Lang,
    /// Called by the "try again" button, shown when given.
    #[prop_or_default]
    pub on_retry: Option<Callback<MouseEvent>>,
}

/// A failure as an alert the pupil can act on.
#[function_component]
pub fn ErrorPanel(props: &ErrorProps) -> Html {
    crate::view::prerender::use_retire_early_lesson();
    let (title, body) = describe(&props.error, props.lang);
    let kind = match props.error {
        LoadError::Corrupted { .. } => "corrupted",
        LoadError::Unreachable(_) | LoadError::PartUnloaded => "unreachable",
        _ => "unverified",
    };
    html! {
        <section class={classes!("error", kind)} role="alert">
            <h2>{ title }</h2>
            <p>{ body }</p>
            if let Some(on_retry) = &props.on_retry {
                <button type="button" onclick={on_retry.clone()}>{ props.lang.text().retry }</button>
            }
        </section>
    }
}
