//! The app's parts that load when first needed. The first bundle holds what shows a lesson: home,
//! lesson, agenda, opening and verifying the course. The exercises, "Mon travail" with the outbox, the
//! course's panels (the origin's banner, saving for offline, where the bytes came from), the classmates'
//! swarm and ed25519-dalek (for browsers whose WebCrypto has no Ed25519) are each reached only through a
//! function here, a split point that `wasm-split-cli` cuts into a wasm module of its own
//! (`scripts/setup.sh` builds with the `split` feature): the module is fetched (through the service
//! worker, which checks it against the CID the shell list pins and keeps it) the first time the
//! function is called, and shares the first bundle's memory and code. The splitter moves code, not
//! data: a part's strings stay in the first bundle. Without the feature (tests), each is an ordinary
//! function of the one module.
//!
//! A part that cannot be fetched (offline before it was ever kept, a refusing origin) is [`Unloaded`],
//! which the page says in words; the next call asks again.

use std::rc::Rc;

use cartable_core::key::Signature;
use cartable_core::store::Store;
use cartable_core::PublicKey;
use cartable_web::fetcher::Fetcher;
use futures::future::LocalBoxFuture;
use yew::Html;

use crate::course::PageStore;
use crate::swarm::{Peers, SwarmConfig};
use crate::view::Ctx;

/// A part of the app could not be fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a part of the app could not be loaded")]
pub struct Unloaded;

#[cfg(feature = "split")]
impl From<wasm_split_helpers::SplitLoaderError> for Unloaded {
    fn from(_: wasm_split_helpers::SplitLoaderError) -> Unloaded {
        Unloaded
    }
}

/// A split point: with the `split` feature, `$part` names the module `$name` is cut into and the macro
/// makes it async; without, the same body as an async function.
macro_rules! split_point {
    ($part:ident, $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        #[cfg(feature = "split")]
        $(#[$doc])*
        #[wasm_split_helpers::wasm_split($part, fallible)]
        pub fn $name($($arg: $ty),*) -> $ret $body

        #[cfg(not(feature = "split"))]
        $(#[$doc])*
        pub async fn $name($($arg: $ty),*) -> $ret $body
    };
}

/// Draws a page of a part with the course as it is now: the part is loaded once, and the page keeps its
/// state when the course's context changes (the interface language).
pub type Page<A> = fn(Ctx, A) -> Html;

split_point!(
    exercises,
    /// The exercise page of a lesson, drawn with the lesson's index.
    fn exercises_page() -> Result<Page<usize>, Unloaded> {
        Ok(|ctx, index| yew::html! { <crate::view::exercise::ExercisesPage {ctx} {index} /> })
    }
);

/// Draws the course's panels: the banner above the page while the origin is in trouble, or below the
/// page, saving for offline (its section shown on the course home) and where the bytes came from.
pub type Panels = fn(&Ctx, Panel) -> Html;

/// Where panels are drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// Above the page: the origin's trouble, and what stands in for it.
    Banner,
    /// Below the page.
    Below {
        /// Whether the page is the course home, where the offline section shows.
        home: bool,
    },
}

split_point!(
    panels,
    /// The course's panels.
    fn panels() -> Result<Panels, Unloaded> {
        Ok(draw_panels)
    }
);

fn draw_panels(ctx: &Ctx, panel: Panel) -> Html {
    match panel {
        Panel::Banner => crate::view::sources::origin_banner(ctx),
        Panel::Below { home } => yew::html! {
            <>
                <crate::view::offline::OfflineKeeper ctx={ctx.clone()} shown={home} />
                { crate::view::sources::sources_panel(ctx) }
            </>
        },
    }
}

split_point!(
    work,
    /// The page "Mon travail": handing in, and what was sent. Loading it starts the outbox's sending.
    fn work_page() -> Result<Page<()>, Unloaded> {
        crate::outbox::start();
        Ok(|ctx, ()| yew::html! { <crate::view::work::WorkPage {ctx} /> })
    }
);

split_point!(
    work,
    /// Starts the outbox's sending: now, and whenever the browser comes back online.
    fn start_outbox() -> Result<(), Unloaded> {
        crate::outbox::start();
        Ok(())
    }
);

split_point!(
    classmates,
    /// Joins the course's swarm (when this tab wins the browser's swarm lock, else `None`) and lets
    /// `fetcher` ask the classmates.
    fn join_swarm(
        config: SwarmConfig,
        store: Rc<PageStore>,
        fetcher: Fetcher,
    ) -> Result<LocalBoxFuture<'static, Option<Rc<dyn Peers>>>, Unloaded> {
        let store: Rc<dyn Store> = store;
        Ok(Box::pin(crate::swarm::join_for(config, store, fetcher)))
    }
);

/// Waits until the page holds what it shows (the fetcher waits for no chunk, at two checks 100 ms
/// apart), or 4 s: a part the pupil does not need to read then comes without taking the line, or the
/// main thread of a slow machine, from the lesson.
pub async fn after_page(fetcher: &Fetcher) {
    let mut quiet = 0;
    for _ in 0..40 {
        quiet = if fetcher.waiting() { 0 } else { quiet + 1 };
        if quiet >= 2 {
            return;
        }
        cartable_web::net::sleep(100).await;
    }
}

/// The course's panels, their part asked again after a full-jitter pause (1 s doubling up to 30 s, the
/// core's rule) for as long as it cannot be fetched: the network or the origin comes back.
pub async fn panels_retrying() -> Panels {
    let mut failures = 0;
    loop {
        match panels().await {
            Ok(panels) => return panels,
            Err(Unloaded) => failures += 1,
        }
        let pause = cartable_core::fetch::full_jitter(1_000, 30_000, failures, cartable_web::clock::random());
        cartable_web::net::sleep(pause.min(i32::MAX as u64) as i32).await;
    }
}

split_point!(
    signatures,
    /// Whether `signature` was made over `message` by `key`, checked by ed25519-dalek: for browsers
    /// whose WebCrypto has no Ed25519 (`crate::signature`).
    fn check_signature(key: PublicKey, message: Vec<u8>, signature: Signature) -> Result<bool, Unloaded> {
        Ok(key.verify(&message, &signature))
    }
);

/// Sends the work an earlier visit left in the outbox, if any: the outbox's part is loaded only then (or
/// when the pupil opens a page that hands work in).
pub async fn send_waiting_work() {
    if crate::outbox::waiting().await {
        let _ = start_outbox().await;
    }
}

/// Fetches every part not loaded yet, so that the service worker keeps them: after the pupil saved the
/// course for offline, exercises and "Mon travail" must open without the network. Whether the
/// classmates' part loads is the school's and the pupil's choice (`sharing`), not this one's.
pub async fn keep_for_offline() -> Result<(), Unloaded> {
    #[cfg(feature = "split")]
    {
        __wasm_split_preload_exercises_page().await?;
        __wasm_split_preload_work_page().await?;
        __wasm_split_preload_panels().await?;
        // Where WebCrypto checks signatures, this part is never used; it is small, and a saved course
        // must open offline on a browser whose WebCrypto does not.
        __wasm_split_preload_check_signature().await?;
    }
    Ok(())
}
