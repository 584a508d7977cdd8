//! "Mon travail": the pupil types their name once (kept in this browser), hands in a text and files (the
//! size limit stated), and sees each piece of work they saved: waiting to be sent, or sent with the
//! school's receipt. Saving and sending are `crate::outbox`'s; this page only shows and asks.

use std::rc::Rc;

use cartable_core::submission::{self, Attachment, Entry, Kind, State, Submission, SubmissionError};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::i18n::{Lang, Text};
use crate::outbox::{self, SaveError};
use crate::view::Ctx;

/// Properties of [`WorkPage`].
#[derive(Properties, PartialEq)]
pub struct WorkProps {
    /// The course.
    pub ctx: Ctx,
}

/// What the form last said.
#[derive(Clone, PartialEq)]
enum Notice {
    None,
    Saving,
    Saved { key: String, at: i64 },
    Error(String),
}

/// The "Mon travail" page.
#[function_component]
pub fn WorkPage(props: &WorkProps) -> Html {
    crate::view::prerender::use_retire_early_lesson();
    let lang = props.ctx.lang;
    let text = lang.text();
    let entries = use_entries();
    let notice = use_state(|| Notice::None);
    let (student, title, body, files) = (use_node_ref(), use_node_ref(), use_node_ref(), use_node_ref());
    let hand_in = {
        let (ctx, notice) = (props.ctx.clone(), notice.clone());
        let refs = (student.clone(), title.clone(), body.clone(), files.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if *notice == Notice::Saving {
                return;
            }
            // Read before anything redraws the form.
            let form = Form::read(&refs);
            notice.set(Notice::Saving);
            let (ctx, notice, refs) = (ctx.clone(), notice.clone(), refs.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let said = hand_in_now(&ctx, form).await;
                if matches!(said, Notice::Saved { .. }) {
                    clear(&refs);
                }
                notice.set(said);
            });
        })
    };
    {
        // The name typed last time, filled in once: the field is the pupil's from then on.
        let student = student.clone();
        use_effect_with((), move |_| {
            let saved = outbox::student();
            if let (Some(input), Some(saved)) = (student.cast::<HtmlInputElement>(), saved) {
                input.set_value(&saved);
            }
        });
    }
    html! {
        <section class="work">
            <h2>{ text.work }</h2>
            <p>{ text.work_intro }</p>
            <form class="work-form" onsubmit={hand_in}>
                <label>{ text.work_student }{ " " }
                    <input id="work-student" ref={student} maxlength="200" autocomplete="name" />
                </label>
                <label>{ text.work_title }{ " " }<input id="work-title" ref={title} maxlength="200" /></label>
                <label>{ text.work_text }<textarea id="work-text" ref={body} rows="6" /></label>
                <label>{ text.work_files }{ " " }<input id="work-files" ref={files} type="file" multiple=true /></label>
                <button type="submit" class="work-hand-in" disabled={*notice == Notice::Saving}>{ text.work_hand_in }</button>
            </form>
            { notice_view(&notice, lang) }
            <h3>{ text.work_items }</h3>
            <button type="button" class="work-send-now" onclick={Callback::from(|_| outbox::send_now())}>
                { text.work_send_now }
            </button>
            if entries.is_empty() {
                <p class="work-none">{ text.work_none }</p>
            } else {
                <ul class="work-items">{ for entries.iter().rev().map(|entry| entry_view(entry, lang)) }</ul>
            }
        </section>
    }
}

/// The outbox's entries, redrawn whenever one changes.
#[hook]
fn use_entries() -> Vec<Entry> {
    let entries = use_state(outbox::entries);
    {
        let entries = entries.clone();
        use_effect_with((), move |_| {
            let id = outbox::subscribe(Rc::new(move || entries.set(outbox::entries())));
            move || outbox::unsubscribe(id)
        });
    }
    (*entries).clone()
}

type Refs = (NodeRef, NodeRef, NodeRef, NodeRef);

/// What the pupil typed and chose.
struct Form {
    student: String,
    title: String,
    text: String,
    files: Vec<web_sys::File>,
}

impl Form {
    fn read((student, title, body, files): &Refs) -> Form {
        let value = |node: &NodeRef| node.cast::<HtmlInputElement>().map(|input| input.value()).unwrap_or_default();
        let list = files.cast::<HtmlInputElement>().and_then(|input| input.files());
        Form {
            student: value(student).trim().to_owned(),
            title: value(title).trim().to_owned(),
            text: body.cast::<HtmlTextAreaElement>().map(|area| area.value()).unwrap_or_default(),
            files: list
                .map(|list| (0..list.length()).filter_map(|index| list.get(index)).collect())
                .unwrap_or_default(),
        }
    }
}

/// Empties the title, the text and the files once the work is saved; the name stays.
fn clear((_, title, body, files): &Refs) {
    for node in [title, files] {
        if let Some(input) = node.cast::<HtmlInputElement>() {
            input.set_value("");
        }
    }
    if let Some(area) = body.cast::<HtmlTextAreaElement>() {
        area.set_value("");
    }
}

/// Keeps the work in the outbox; what to say to the pupil.
async fn hand_in_now(ctx: &Ctx, form: Form) -> Notice {
    let text = ctx.lang.text();
    outbox::set_student(&form.student);
    let (attachments, bytes) = match read_files(form.files, text).await {
        Ok(read) => read,
        Err(error) => return Notice::Error(error),
    };
    let Some(key) = outbox::new_key() else { return Notice::Error(text.work_not_saved.replace("{error}", "crypto")) };
    let submission = Submission {
        key: key.clone(),
        course_id: ctx.course.manifest.course.id.clone(),
        student: form.student,
        created_at: outbox::now_ms(),
        kind: Kind::HandIn { title: form.title, text: form.text, attachments },
    };
    let at = submission.created_at;
    match outbox::save(&ctx.course.submissions_url(), submission, &bytes).await {
        Ok(()) => Notice::Saved { key, at },
        Err(error) => Notice::Error(save_error(&error, text)),
    }
}

/// The files chosen, as attachments (CIDs from WebCrypto) and bytes; refused at once past the limits,
/// before reading them.
async fn read_files(chosen: Vec<web_sys::File>, text: &Text) -> Result<(Vec<Attachment>, Vec<Vec<u8>>), String> {
    if chosen.len() > submission::MAX_ATTACHMENTS {
        return Err(save_error(&SaveError::Invalid(SubmissionError::TooManyFiles), text));
    }
    let total: f64 = chosen.iter().map(|file| file.size()).sum();
    if total > submission::MAX_ATTACHMENT_BYTES as f64 {
        return Err(save_error(&SaveError::Invalid(SubmissionError::TooBig), text));
    }
    let (mut attachments, mut contents) = (Vec::new(), Vec::new());
    for file in chosen {
        let unreadable = || text.work_not_saved.replace("{error}", &file.name());
        let buffer = JsFuture::from(file.array_buffer()).await.map_err(|_| unreadable())?;
        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
        let Some(cid) = cartable_web::digest::cid_of(&bytes).await else { return Err(unreadable()) };
        let media_type =
            Some(file.type_()).filter(|t| !t.is_empty()).unwrap_or_else(|| "application/octet-stream".into());
        attachments.push(Attachment { name: file.name(), media_type, size: bytes.len() as u64, cid });
        contents.push(bytes);
    }
    Ok((attachments, contents))
}

fn save_error(error: &SaveError, text: &Text) -> String {
    match error {
        SaveError::Invalid(SubmissionError::Empty("the pupil's name")) => text.work_need_name.into(),
        SaveError::Invalid(SubmissionError::Empty("the title")) => text.work_need_title.into(),
        SaveError::Invalid(SubmissionError::TooBig) => text.work_too_big.into(),
        SaveError::Invalid(SubmissionError::TooManyFiles) => text.work_too_many.into(),
        other => text.work_not_saved.replace("{error}", &other.to_string()),
    }
}

fn notice_view(notice: &Notice, lang: Lang) -> Html {
    let text = lang.text();
    match notice {
        Notice::None => html! {},
        Notice::Saving => html! { <p class="work-notice" role="status">{ text.work_saving }</p> },
        Notice::Saved { key, at } => {
            let said = text.work_saved.replace("{key}", submission::short_key(key)).replace("{time}", &time(*at, lang));
            html! { <p class="work-notice work-saved" role="status" data-key={key.clone()}>{ said }</p> }
        }
        Notice::Error(message) => html! { <p class="work-notice work-error" role="alert">{ message }</p> },
    }
}

fn entry_view(entry: &Entry, lang: Lang) -> Html {
    let text = lang.text();
    let submission = &entry.submission;
    let what = match &submission.kind {
        Kind::HandIn { title, attachments, .. } if attachments.is_empty() => title.clone(),
        Kind::HandIn { title, attachments, .. } => format!("{title} (+{})", attachments.len()),
        Kind::Answer { exercise, .. } => exercise.clone(),
    };
    let (state, said) = match &entry.state {
        State::Pending { .. } => ("pending", text.work_pending.to_owned()),
        State::Sending { .. } => ("sending", text.work_sending.to_owned()),
        State::Delivered(receipt) => (
            "sent",
            text.work_sent.replace("{id}", &receipt.id.to_string()).replace("{time}", &time(receipt.received_at, lang)),
        ),
        State::Refused(reason) => ("refused", text.work_refused.replace("{reason}", reason)),
    };
    let local = text
        .work_local_receipt
        .replace("{key}", submission::short_key(&submission.key))
        .replace("{time}", &time(submission.created_at, lang));
    html! {
        <li data-key={submission.key.clone()} data-state={state}>
            <strong>{ what }</strong>{ " · " }<span class="work-state">{ said }</span>
            <br /><small>{ local }</small>
        </li>
    }
}

/// A time of day with its date, in the pupil's language and time zone.
fn time(ms: i64, lang: Lang) -> String {
    let date = js_sys::Date::new(&(ms as f64).into());
    String::from(date.to_locale_string(lang.tag(), &wasm_bindgen::JsValue::UNDEFINED))
}
