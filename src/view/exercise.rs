//! A lesson's exercise: its published questions fetched, verified and read back by the core
//! (`exercise::from_json`), each answered with ordinary form controls and checked at once by the core's
//! grading. Nothing is sent anywhere from here: a checked answer goes to [`hand_in`].

use std::rc::Rc;

use cartable_core::exercise::{self, Answer, Exercise, Grade, Kind, Question, Response, Unreadable};
use cartable_core::submission::{self, Submission};
use yew::prelude::*;

use crate::course::LoadError;
use crate::i18n::Text;
use crate::outbox;
use crate::progress;
use crate::view::error::ErrorPanel;
use crate::view::load::{use_load, Load};
use crate::view::route::Route;
use crate::view::Ctx;

mod controls;

/// Where a checked answer (or a free response) is handed in: the one place the app records what a pupil
/// answered. It keeps the answer in this browser's progress (attempts, last grade, last response), which
/// the course home sums up, and, once the pupil has given their name on "Mon travail", puts it in the
/// outbox for the teacher (kept in IndexedDB, sent when the school's server can take it). Returns false
/// when the browser refused to keep the progress.
pub fn hand_in(ctx: &Ctx, answer: &Answer, questions: usize) -> bool {
    let kept = progress::record(&ctx.course.manifest.course.id, answer, questions);
    if let (Some(student), Some(key)) = (outbox::student(), outbox::new_key()) {
        let score = match answer.grade {
            Grade::Correct => Some(1.0),
            Grade::Partial => Some(0.5),
            Grade::Incorrect => Some(0.0),
            Grade::Kept | Grade::Unreadable(_) => None,
        };
        let submission = Submission {
            key,
            course_id: ctx.course.manifest.course.id.clone(),
            student,
            created_at: outbox::now_ms(),
            kind: submission::Kind::Answer {
                exercise: format!("{}#{}", answer.exercise, answer.question),
                response: serde_json::to_string(answer).unwrap_or_default(),
                score,
            },
        };
        let url = ctx.course.submissions_url();
        wasm_bindgen_futures::spawn_local(async move {
            // A refusal (storage full or blocked) leaves the answer in the progress above, on this device.
            let _ = outbox::save(&url, submission, &[]).await;
        });
    }
    kept
}

/// Properties of [`ExercisesPage`].
#[derive(Properties, PartialEq)]
pub struct ExercisesProps {
    /// The course.
    pub ctx: Ctx,
    /// Index of the lesson in the manifest.
    pub index: usize,
}

/// The exercise page of a lesson (`#/lecon/N/exercices`).
#[function_component]
pub fn ExercisesPage(props: &ExercisesProps) -> Html {
    let text = props.ctx.lang.text();
    let lesson = props.ctx.course.manifest.lessons.get(props.index).cloned();
    let path = lesson.as_ref().and_then(|lesson| lesson.exercises.clone());
    let exercise = use_load((props.ctx.clone(), path.clone()), |(ctx, path)| async move {
        let Some(path) = path else { return Ok(None) };
        let bytes = ctx.course.file(&path).await?;
        // The bytes matched the signed manifest, so an exercise that does not read is the packer's fault.
        exercise::from_json(&bytes).map(|exercise| Some(Rc::new(exercise))).map_err(|_| LoadError::Corrupted { path })
    });
    let Some(lesson) = lesson else { return html! { <p>{ text.no_such_lesson }</p> } };
    let back = html! { <p><a href={Route::Lesson(props.index).href()}>{ text.back_to_lesson }</a></p> };
    let body = match (&*exercise, path) {
        (Load::Loading, _) => html! { <p class="loading">{ text.loading_file }</p> },
        (Load::Failed(error), _) => html! { <ErrorPanel error={error.clone()} lang={props.ctx.lang} /> },
        (Load::Ready(Some(exercise)), Some(path)) => questions(&props.ctx, &lesson.source, &path, exercise),
        (Load::Ready(_), _) => html! { <p>{ text.no_exercises }</p> },
    };
    html! {
        <div class="exercises">
            { back.clone() }
            <h2>{ text.exercises_of }{ " · " }{ &lesson.title }</h2>
            <p class="exercises-recipient">
                { match outbox::student() {
                    Some(name) => text.answers_sent_as.replace("{name}", &name),
                    None => text.answers_kept_here.to_owned(),
                } }
                { " " }<a href={Route::Work.href()}>{ text.work }</a>
            </p>
            { body }
            { back }
        </div>
    }
}

fn questions(ctx: &Ctx, lesson: &str, path: &str, exercise: &Rc<Exercise>) -> Html {
    let kept = progress::lesson(&ctx.course.manifest.course.id, lesson);
    let total = exercise.questions.len();
    exercise
        .questions
        .iter()
        .enumerate()
        .map(|(position, question)| {
            let state = kept.question(&question.id).cloned().map(Rc::new);
            html! {
                <QuestionForm
                    key={question.id.clone()}
                    ctx={ctx.clone()}
                    lesson={AttrValue::from(lesson.to_owned())}
                    exercise={AttrValue::from(path.to_owned())}
                    question={Rc::new(question.clone())}
                    {position}
                    {total}
                    {state}
                />
            }
        })
        .collect()
}

#[derive(Properties, PartialEq)]
struct QuestionProps {
    ctx: Ctx,
    lesson: AttrValue,
    exercise: AttrValue,
    question: Rc<Question>,
    /// 0-based position in the exercise: numbers the question and makes its element ids unique.
    position: usize,
    total: usize,
    state: Option<Rc<exercise::QuestionState>>,
}

/// Where a question stands on the page: one state rather than four (each kind of state is code in the
/// download).
#[derive(Clone)]
struct Attempt {
    response: Response,
    checked: Option<Grade>,
    attempts: u32,
    refused: bool,
}

/// One question: its controls, the "Vérifier" button, then the grade, the attempts and the explanation.
#[function_component]
fn QuestionForm(props: &QuestionProps) -> Html {
    let question = props.question.clone();
    let text = props.ctx.lang.text();
    let attempt = use_state(|| Attempt {
        response: props.state.as_ref().map_or_else(|| controls::empty_response(&question.kind), |s| s.response.clone()),
        checked: props.state.as_ref().map(|state| state.grade),
        attempts: props.state.as_ref().map_or(0, |state| state.attempts),
        refused: false,
    });
    let refocus: controls::Refocus = use_mut_ref(|| None);
    {
        // After each drawing: the move button just pressed gets the focus back.
        let refocus = refocus.clone();
        use_effect(move || {
            if let Some(button) = refocus.borrow_mut().take() {
                let _ = button.focus();
            }
        });
    }
    let edit = {
        let attempt = attempt.clone();
        Callback::from(move |response: Response| attempt.set(Attempt { response, checked: None, ..(*attempt).clone() }))
    };
    let onsubmit = {
        let attempt = attempt.clone();
        let (ctx, lesson, exercise, total) =
            (props.ctx.clone(), props.lesson.clone(), props.exercise.clone(), props.total);
        let question = question.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let mut next = (*attempt).clone();
            let grade = exercise::grade(&question, &next.response);
            if grade.is_attempt() {
                next.attempts += 1;
                let answer = Answer {
                    lesson: lesson.to_string(),
                    exercise: exercise.to_string(),
                    question: question.id.clone(),
                    response: next.response.clone(),
                    grade,
                    attempts: next.attempts,
                };
                next.refused = !hand_in(&ctx, &answer, total);
            }
            next.checked = Some(grade);
            attempt.set(next);
        })
    };
    let prefix = format!("q{}", props.position + 1);
    let needs = controls::Needs { edit: &edit, refocus: &refocus, prefix: &prefix, text };
    let button = match question.kind {
        Kind::FreeResponse {} => text.keep_answer,
        _ => text.check,
    };
    html! {
        <form class="question" {onsubmit} novalidate=true>
            <fieldset>
                <legend>{ format!("{}. ", props.position + 1) }{ &question.prompt }</legend>
                { controls::controls(&question.kind, &attempt.response, &needs) }
            </fieldset>
            <button type="submit">{ button }</button>
            <div class="feedback" role="status">
                { feedback(attempt.checked, attempt.attempts, question.explanation.as_deref(), text) }
                if attempt.refused { <p class="file-error">{ text.progress_not_kept }</p> }
            </div>
        </form>
    }
}

fn feedback(checked: Option<Grade>, attempts: u32, explanation: Option<&str>, text: &Text) -> Html {
    let Some(grade) = checked else { return Html::default() };
    let (class, message) = match grade {
        Grade::Correct => ("correct", text.graded_correct),
        Grade::Partial => ("partial", text.graded_partial),
        Grade::Incorrect => ("incorrect", text.graded_incorrect),
        Grade::Kept => ("kept", text.graded_kept),
        Grade::Unreadable(Unreadable::Empty) => ("unreadable", text.unread_empty),
        Grade::Unreadable(Unreadable::NotANumber) => ("unreadable", text.unread_number),
        Grade::Unreadable(Unreadable::NotThisQuestion) => ("unreadable", text.unread_other),
    };
    html! {
        <>
            <p class={classes!("grade", class)}>{ message }</p>
            if attempts > 0 { <p class="attempts">{ text.attempts.replace("{n}", &attempts.to_string()) }</p> }
            if let Some(explanation) = explanation.filter(|_| grade.is_attempt()) {
                <p class="explanation"><strong>{ text.explanation }</strong>{ " " }{ explanation }</p>
            }
        </>
    }
}
