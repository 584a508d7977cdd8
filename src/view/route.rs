//! Pages addressed by the URL fragment (`#/lecon/2`), so the back button and bookmarks work without a
//! router dependency.

use gloo_events::EventListener;
use yew::prelude::*;

/// A page of the course.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// The course home.
    Home,
    /// A lesson, by index in the manifest (0-based).
    Lesson(usize),
    /// The exercise of a lesson, by index in the manifest (0-based).
    Exercises(usize),
    /// The homework agenda.
    Agenda,
    /// The pupil's work: handing in, and what was sent.
    Work,
}

impl Route {
    /// Reads a fragment such as `#/lecon/2` or `#/lecon/2/exercices`. Anything unknown is the home page.
    pub fn parse(fragment: &str) -> Route {
        let path = fragment.trim_start_matches('#').trim_matches('/');
        match path.split_once('/') {
            Some(("lecon", rest)) => {
                let (number, exercises) = match rest.split_once('/') {
                    Some((number, "exercices")) => (number, true),
                    Some(_) => return Route::Home,
                    None => (rest, false),
                };
                match number.parse::<usize>() {
                    Ok(number) if number >= 1 && exercises => Route::Exercises(number - 1),
                    Ok(number) if number >= 1 => Route::Lesson(number - 1),
                    _ => Route::Home,
                }
            }
            _ if path == "cahier-de-textes" => Route::Agenda,
            _ if path == "travail" => Route::Work,
            _ => Route::Home,
        }
    }

    /// The fragment that leads to this page.
    pub fn href(self) -> String {
        match self {
            Route::Home => "#/".into(),
            Route::Lesson(index) => format!("#{}", cartable_core::html::lesson_fragment(index)),
            Route::Exercises(index) => format!("#{}/exercices", cartable_core::html::lesson_fragment(index)),
            Route::Agenda => "#/cahier-de-textes".into(),
            Route::Work => "#/travail".into(),
        }
    }

    fn current() -> Route {
        let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
        Route::parse(&hash)
    }
}

/// The current page, updated when the fragment changes.
#[hook]
pub fn use_route() -> Route {
    let route = use_state(Route::current);
    {
        let route = route.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window()
                .map(|window| EventListener::new(&window, "hashchange", move |_| route.set(Route::current())));
            move || drop(listener)
        });
    }
    *route
}
