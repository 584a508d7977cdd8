//! "Save for offline": downloads every missing chunk with a progress bar (bytes and files), resumes after a
//! reload (what is stored stays stored), shows the space used, and asks the browser to keep the data. It
//! says the course is available offline only when the course is stored and a service worker, holding the
//! whole app, controls the page; otherwise it says what is missing.

use cartable_core::offline::Progress;
use yew::prelude::*;

use crate::course::LoadError;
use crate::i18n::{bytes, Lang};
use crate::parts;
use crate::view::error::ErrorPanel;
use crate::view::Ctx;
use crate::worker::{self, Keeping};

/// Where saving stands.
#[derive(Clone, PartialEq)]
enum Status {
    Idle,
    Saving,
    Failed(LoadError),
}

/// The course's offline state, kept by the course view (always mounted) and shown by [`OfflinePanel`].
#[derive(Clone, PartialEq)]
pub struct Offline {
    progress: Option<Progress>,
    status: Status,
    space: Option<Space>,
    /// Whether a service worker keeps the app on this device.
    app: Keeping,
    save: Callback<()>,
}

/// Tracks how much of the course is stored and runs "save for offline". When this visit brought a new
/// version of a course the pupil had saved, saves its new chunks in the background, whatever the page.
#[hook]
pub fn use_offline(ctx: &Ctx) -> Offline {
    let progress = use_state(|| None::<Progress>);
    let status = use_state(|| Status::Idle);
    let space = use_state(|| None::<Space>);
    let app = use_state(worker::keeping);
    {
        let app = app.clone();
        use_effect_with((), move |_| {
            let listener = worker::on_control(move || app.set(worker::keeping()));
            move || drop(listener)
        });
    }
    let save = {
        let (ctx, progress, status, space) = (ctx.clone(), progress.clone(), status.clone(), space.clone());
        Callback::from(move |_: ()| {
            let (ctx, progress, status, space) = (ctx.clone(), progress.clone(), status.clone(), space.clone());
            status.set(Status::Saving);
            wasm_bindgen_futures::spawn_local(async move {
                persist().await;
                let mut result = ctx.course.save(|now| progress.set(Some(now.clone()))).await;
                if result.is_ok() {
                    // Exercises and "Mon travail" must open offline too: their parts are kept now.
                    result = parts::keep_for_offline().await.map_err(|_| LoadError::PartUnloaded);
                }
                if result.is_ok() {
                    saved_flag::set(&ctx.course.manifest.course.id);
                    let _ = ctx.course.collect_garbage().await;
                }
                status.set(result.err().map_or(Status::Idle, Status::Failed));
                space.set(Space::measure(&ctx).await);
            });
        })
    };
    {
        let (ctx, progress, space, save) = (ctx.clone(), progress.clone(), space.clone(), save.clone());
        use_effect_with(ctx.clone(), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if ctx.course.updated_from.is_some() {
                    // A new version arrived: keep a saved course whole (only its new chunks are missing).
                    if saved_flag::get(&ctx.course.manifest.course.id) {
                        save.emit(());
                        return;
                    }
                    let _ = ctx.course.collect_garbage().await;
                } else if saved_flag::get(&ctx.course.manifest.course.id) {
                    // A saved course keeps the app's parts of this build (a new build keeps none yet).
                    let _ = parts::keep_for_offline().await;
                }
                progress.set(ctx.course.progress().await.ok());
                space.set(Space::measure(&ctx).await);
            });
        });
    }
    Offline { progress: (*progress).clone(), status: (*status).clone(), space: (*space).clone(), app: *app, save }
}

/// Properties of [`OfflineKeeper`].
#[derive(Properties, PartialEq)]
pub struct KeeperProps {
    /// The course.
    pub ctx: Ctx,
    /// Whether the offline section is shown (on the course home).
    pub shown: bool,
}

/// The course's offline state on every page (a saved course keeps its new version whatever the page),
/// and its section on the course home.
#[function_component]
pub fn OfflineKeeper(props: &KeeperProps) -> Html {
    let offline = use_offline(&props.ctx);
    html! { if props.shown { <OfflinePanel {offline} lang={props.ctx.lang} /> } }
}

/// Properties of [`OfflinePanel`].
#[derive(Properties, PartialEq)]
pub struct OfflineProps {
    /// The course's offline state.
    pub offline: Offline,
    /// Interface language.
    pub lang: Lang,
}

/// The offline section of the course home.
#[function_component]
pub fn OfflinePanel(props: &OfflineProps) -> Html {
    let Offline { progress, status, space, app, save } = &props.offline;
    let lang = props.lang;
    let text = lang.text();
    let complete = progress.as_ref().is_some_and(|p| p.chunks_missing.is_empty());
    let started = progress.as_ref().is_some_and(|p| p.bytes_stored > 0);
    let onclick = save.reform(|_: MouseEvent| ());
    html! {
        <section class="offline-panel" aria-labelledby="offline-title">
            <h2 id="offline-title">{ text.offline_section }</h2>
            if complete {
                <p class="saved" role="status">{ match app {
                    Keeping::Kept => text.saved_offline,
                    Keeping::Pending => text.saved_but_app_not_kept,
                    Keeping::Impossible => text.saved_but_no_worker,
                } }</p>
            } else if *status == Status::Saving {
                <p class="saving" role="status">{ text.saving }</p>
            } else {
                <button type="button" class="save-offline" {onclick}>
                    { if started { text.resume_saving } else { text.save_offline } }
                </button>
            }
            if let Some(progress) = progress.as_ref().filter(|_| !complete || *status == Status::Saving) {
                { progress_bar(progress, lang) }
            }
            if let Status::Failed(error) = status {
                <ErrorPanel error={error.clone()} {lang} />
            }
            if let Some(space) = space {
                <p class="space">{ space.describe(lang) }</p>
            }
        </section>
    }
}

fn progress_bar(progress: &Progress, lang: Lang) -> Html {
    let label = lang
        .text()
        .save_progress
        .replace("{bytes}", &bytes(progress.bytes_stored, lang))
        .replace("{total}", &bytes(progress.bytes_total, lang))
        .replace("{files}", &progress.files_complete.to_string())
        .replace("{all}", &progress.files_total.to_string());
    html! {
        <div class="save-progress">
            <progress max={progress.bytes_total.to_string()} value={progress.bytes_stored.to_string()}
                aria-label={label.clone()}></progress>
            <p>{ label }</p>
        </div>
    }
}

/// Space used by cartable and the browser's estimate of what this site may use.
#[derive(Clone, PartialEq)]
struct Space {
    used: u64,
    quota: Option<u64>,
}

impl Space {
    async fn measure(ctx: &Ctx) -> Option<Space> {
        let used = ctx.course.stored_bytes().await.ok()?;
        Some(Space { used, quota: estimate_quota().await })
    }

    fn describe(&self, lang: Lang) -> String {
        let quota = self.quota.map_or_else(|| "?".to_owned(), |quota| bytes(quota, lang));
        lang.text().space_used.replace("{used}", &bytes(self.used, lang)).replace("{quota}", &quota)
    }
}

fn storage_manager() -> Option<web_sys::StorageManager> {
    Some(web_sys::window()?.navigator().storage())
}

/// Asks the browser not to evict this site's data under storage pressure. The answer is the browser's:
/// saving proceeds either way.
async fn persist() {
    if let Some(promise) = storage_manager().and_then(|storage| storage.persist().ok()) {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

async fn estimate_quota() -> Option<u64> {
    let promise = storage_manager()?.estimate().ok()?;
    let estimate: web_sys::StorageEstimate = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?.into();
    estimate.get_quota().map(|quota| quota as u64)
}

/// Courses the pupil saved for offline use, so an update keeps them whole.
mod saved_flag {
    fn key(course_id: &str) -> String {
        format!("cartable.saved.{course_id}")
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    pub fn get(course_id: &str) -> bool {
        storage().and_then(|s| s.get_item(&key(course_id)).ok().flatten()).is_some()
    }

    pub fn set(course_id: &str) {
        if let Some(storage) = storage() {
            let _ = storage.set_item(&key(course_id), "1");
        }
    }
}
