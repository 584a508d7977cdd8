//! The course home: who the course is for, its lessons, and the next homework.

use cartable_core::date::Date;
use cartable_core::exercise::Summary;
use yew::prelude::*;

use crate::i18n::{long_date, Text};
use crate::view::agenda::sorted_agenda;
use crate::view::route::Route;
use crate::view::Ctx;

/// How many upcoming homework lines the home page lists.
const NEXT_HOMEWORK: usize = 3;

/// Properties of [`HomePage`].
#[derive(Properties, PartialEq)]
pub struct HomeProps {
    /// The course.
    pub ctx: Ctx,
}

/// A lesson's exercise progress in words: "3/6 questions faites · justes : 2 · tentatives : 5".
fn progress_line(summary: Summary, text: &Text) -> String {
    if summary.answered == 0 {
        return text.progress_none.to_owned();
    }
    text.progress_line
        .replace("{answered}", &summary.answered.to_string())
        .replace("{total}", &summary.total.to_string())
        .replace("{correct}", &summary.correct.to_string())
        .replace("{attempts}", &summary.attempts.to_string())
}

/// The course home page.
#[function_component]
pub fn HomePage(props: &HomeProps) -> Html {
    crate::view::prerender::use_retire_early_lesson();
    let (manifest, lang) = (&props.ctx.course.manifest, props.ctx.lang);
    let text = lang.text();
    let progress = crate::progress::load(&manifest.course.id);
    let lessons = manifest.lessons.iter().enumerate().map(|(index, lesson)| {
        let exercises = lesson.exercises.as_ref().map(|_| {
            let summary = progress.lesson(&lesson.source).map(|kept| kept.summary()).unwrap_or_default();
            html! {
                <span class="lesson-exercises">
                    { " · " }
                    <a href={Route::Exercises(index).href()} title={format!("{} · {}", text.exercises_of, lesson.title)}>
                        { text.exercises }
                    </a>
                    { " : " }
                    <span class="progress">{ progress_line(summary, text) }</span>
                </span>
            }
        });
        html! { <li><a href={Route::Lesson(index).href()}>{ &lesson.title }</a>{ exercises }</li> }
    });
    let today = Date::from_unix(cartable_web::clock::unix_s());
    let upcoming: Vec<Html> = sorted_agenda(manifest)
        .into_iter()
        .filter(|homework| homework.due >= today)
        .take(NEXT_HOMEWORK)
        .map(|homework| html! {
            <li><strong>{ long_date(homework.due, lang) }</strong>{ " · " }{ &homework.subject }{ " : " }{ &homework.task }</li>
        })
        .collect();
    html! {
        <div class="home">
            <dl class="course-facts">
                <dt>{ text.class }</dt><dd>{ &manifest.course.class }</dd>
                <dt>{ text.teacher }</dt><dd>{ &manifest.course.teacher }</dd>
                <dt>{ text.version_of }</dt><dd>{ long_date(Date::from_unix(manifest.created_at), lang) }</dd>
            </dl>
            <section aria-labelledby="lessons-title">
                <h2 id="lessons-title">{ text.lessons }</h2>
                <ol class="lesson-list">{ for lessons }</ol>
            </section>
            <section aria-labelledby="next-title">
                <h2 id="next-title">{ text.next_homework }</h2>
                if upcoming.is_empty() { <p>{ text.no_homework }</p> } else { <ul class="next-homework">{ for upcoming }</ul> }
                <p><a href={Route::Agenda.href()}>{ text.agenda }{ " →" }</a></p>
            </section>
        </div>
    }
}
