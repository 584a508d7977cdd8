//! The root component: opens the course, then shows the page the URL fragment names.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;

use cartable_core::PublicKey;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use cartable_core::date::Date;
use cartable_core::fetch::OriginState;

use crate::course::{Course, Elsewhere, Freshness, LoadError};
use crate::i18n::long_date;
use crate::i18n::Lang;
use crate::parts::{self, Panel};
use crate::view::agenda::AgendaPage;
use crate::view::error::ErrorPanel;
use crate::view::home::HomePage;
use crate::view::lesson::LessonPage;
use crate::view::load::{use_load, Load};
use crate::view::part::{Part, PartPage};
use crate::view::route::{use_route, Route};
use crate::view::sources::use_sources_redraw;
use crate::view::Ctx;
use crate::worker;

/// Properties of [`App`], from the embedding page.
#[derive(Properties, PartialEq)]
pub struct AppProps {
    /// URL of the course's `manifest.json`, relative to the page.
    pub manifest_url: AttrValue,
    /// Mirrors and tracker of the course.
    pub elsewhere: Rc<Elsewhere>,
    /// The school's pinned public key.
    pub key: PublicKey,
    /// The interface language to start with.
    pub lang: Lang,
    /// The service worker script to register, if any.
    pub service_worker: Option<AttrValue>,
    /// The course being opened since `mount`, used for the first attempt.
    #[prop_or_default]
    pub opening: Opening,
}

type Opened = Result<Rc<Course>, LoadError>;

/// A course opening started before the app's first render; taken once, by the first attempt.
#[derive(Clone, Default)]
pub struct Opening(Rc<RefCell<Option<oneshot::Receiver<Opened>>>>);

impl Opening {
    /// Starts opening the course at `manifest_url` (or from `elsewhere`) now.
    pub fn start(manifest_url: String, elsewhere: Rc<Elsewhere>, key: PublicKey) -> Opening {
        let (sender, receiver) = oneshot::channel();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = sender.send(Course::open(&manifest_url, &elsewhere, key).await.map(Rc::new));
        });
        Opening(Rc::new(RefCell::new(Some(receiver))))
    }

    /// The result of the opening started before, if not taken yet; else opens the course again.
    async fn take_or_open(self, manifest_url: &str, elsewhere: &Elsewhere, key: PublicKey) -> Opened {
        let started = self.0.borrow_mut().take();
        match started {
            Some(receiver) => match receiver.await {
                Ok(opened) => opened,
                Err(_) => Course::open(manifest_url, elsewhere, key).await.map(Rc::new),
            },
            None => Course::open(manifest_url, elsewhere, key).await.map(Rc::new),
        }
    }
}

impl PartialEq for Opening {
    fn eq(&self, other: &Opening) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// The whole app.
#[function_component]
pub fn App(props: &AppProps) -> Html {
    let lang = use_state(|| props.lang);
    let attempt = use_state(|| 0u32);
    let opening = props.opening.clone();
    let elsewhere = props.elsewhere.clone();
    let course = use_load((props.manifest_url.clone(), props.key, *attempt), move |(url, key, _)| async move {
        opening.take_or_open(&url, &elsewhere, key).await
    });
    let switch_lang = {
        let lang = lang.clone();
        Callback::from(move |_| {
            lang.other().save();
            lang.set(lang.other());
        })
    };
    use_effect_with(*lang, |lang| lang.apply_to_document());
    let reopen = Callback::from(move |()| attempt.set(*attempt + 1));
    let retry = reopen.reform(|_: MouseEvent| ());
    let new_version = use_new_version(props.service_worker.clone());
    let text = lang.text();
    let body = match &*course {
        Load::Loading => html! { <p class="loading">{ text.loading_course }</p> },
        Load::Failed(error) => html! { <ErrorPanel error={error.clone()} lang={*lang} on_retry={retry} /> },
        Load::Ready(course) => html! { <CourseView ctx={Ctx { course: course.clone(), lang: *lang }} {reopen} /> },
    };
    html! {
        <div class="cartable" lang={lang.tag()}>
            <a class="skip-link" href={format!("#{CONTENT}")} onclick={Callback::from(skip_to_content)}>
                { text.skip_to_content }
            </a>
            <div class="toolbar">
                <button type="button" class="switch-lang" onclick={switch_lang} lang={lang.other().tag()}>
                    { text.switch_to }
                </button>
            </div>
            if new_version {
                <div class="new-version" role="status">
                    { text.new_version }{ " " }
                    <button type="button" onclick={Callback::from(|_| worker::activate_new_version())}>
                        { text.reload_now }
                    </button>
                </div>
            }
            <div id={CONTENT} tabindex="-1">{ body }</div>
        </div>
    }
}

/// The `id` of the element holding the page, which the skip link focuses.
const CONTENT: &str = "contenu";

/// Moves the focus past the toolbar to the page, without touching the address: its fragment is the route.
fn skip_to_content(event: MouseEvent) {
    event.prevent_default();
    let content = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(CONTENT));
    if let Some(content) = content.and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = content.focus();
    }
}

#[derive(Properties, PartialEq)]
struct CourseProps {
    ctx: Ctx,
    /// Opens the course again (at the newer version a classmate passed on).
    reopen: Callback<()>,
}

#[function_component]
fn CourseView(props: &CourseProps) -> Html {
    let route = use_route();
    let (course, text) = (&props.ctx.course.manifest.course, props.ctx.lang.text());
    use_page_title(&props.ctx, route);
    let panels = use_panels(&props.ctx);
    use_sources_redraw(&props.ctx);
    let current = |target: Route| (route == target).then_some("page");
    let show_newer = {
        let (course, reopen) = (props.ctx.course.clone(), props.reopen.clone());
        Callback::from(move |_| {
            course.leave();
            reopen.emit(());
        })
    };
    let page = match route {
        Route::Home => html! { <HomePage ctx={props.ctx.clone()} /> },
        Route::Lesson(index) => html! { <LessonPage ctx={props.ctx.clone()} {index} /> },
        Route::Exercises(index) => html! { <Part ctx={props.ctx.clone()} page={PartPage::Exercises(index)} /> },
        Route::Agenda => html! { <AgendaPage ctx={props.ctx.clone()} /> },
        Route::Work => html! { <Part ctx={props.ctx.clone()} page={PartPage::Work} /> },
    };
    html! {
        <>
            <header class="course-header">
                <p class="course-subject">{ &course.subject }{ " · " }{ &course.class }</p>
                <h1>{ &course.title }</h1>
                <nav aria-label={text.main_navigation}>
                    <a href={Route::Home.href()} aria-current={current(Route::Home)}>{ text.home }</a>
                    <a href={Route::Agenda.href()} aria-current={current(Route::Agenda)}>{ text.agenda }</a>
                    <a href={Route::Work.href()} aria-current={current(Route::Work)}>{ text.work }</a>
                </nav>
            </header>
            if let Freshness::Stored { stored_at } = props.ctx.course.freshness {
                <p class="offline-banner" role="status">
                    { text.offline_banner.replace("{date}", &long_date(Date::from_unix(stored_at), props.ctx.lang)) }
                </p>
            }
            if props.ctx.course.newer_from_classmate().is_some() {
                <p class="new-version" role="status">
                    { text.newer_from_classmate }{ " " }
                    <button type="button" onclick={show_newer}>{ text.show_newer }</button>
                </p>
            }
            if let Some(panels) = panels {
                { panels(&props.ctx, Panel::Banner) }
            }
            <div class="page" lang={course.language.clone()}>{ page }</div>
            if let Some(panels) = panels {
                { panels(&props.ctx, Panel::Below { home: route == Route::Home }) }
            }
        </>
    }
}

/// The course's panels (the origin's trouble, saving for offline, where the bytes came from), once their
/// part of the app is loaded: at once when the origin was in trouble at the opening, else after the page
/// holds what it shows; until then (the part asked again while it cannot be fetched), the page reads
/// without them.
#[hook]
fn use_panels(ctx: &Ctx) -> Option<parts::Panels> {
    let panels = use_state(|| None);
    {
        let (panels, course) = (panels.clone(), ctx.course.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if course.origin_at_open == OriginState::Healthy {
                    parts::after_page(&course.fetcher).await;
                }
                panels.set(Some(parts::panels_retrying().await));
            });
        });
    }
    *panels
}

/// Names the browser tab after the page and starts each new page at its top.
#[hook]
fn use_page_title(ctx: &Ctx, route: Route) {
    let manifest = &ctx.course.manifest;
    let page = match route {
        Route::Home => None,
        Route::Lesson(index) => manifest.lessons.get(index).map(|lesson| lesson.title.clone()),
        Route::Exercises(index) => {
            manifest.lessons.get(index).map(|lesson| format!("{} · {}", ctx.lang.text().exercises, lesson.title))
        }
        Route::Agenda => Some(ctx.lang.text().agenda.to_owned()),
        Route::Work => Some(ctx.lang.text().work.to_owned()),
    };
    let title = match page {
        Some(page) => format!("{page} · {}", manifest.course.title),
        None => manifest.course.title.clone(),
    };
    use_effect_with(title, |title| {
        if let Some(window) = web_sys::window() {
            if let Some(document) = window.document() {
                document.set_title(title);
            }
            window.scroll_to_with_x_and_y(0.0, 0.0);
        }
    });
}

/// Registers the service worker once, and becomes true when a new version of the app waits.
#[hook]
fn use_new_version(script: Option<AttrValue>) -> bool {
    let waiting = use_state(|| false);
    {
        let waiting = waiting.clone();
        use_effect_with(script, move |script| {
            if let Some(script) = script {
                worker::register(script, move || waiting.set(true));
            }
        });
    }
    *waiting
}
