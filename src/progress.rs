//! A pupil's exercise progress, kept in this browser's `localStorage` (one JSON entry per course:
//! `cartable.exercises.<course id>`, by lesson). Small, synchronous and kept across reloads and offline;
//! the grading and the figures are the core's (`exercise::LessonProgress`).

use cartable_core::exercise::{Answer, CourseProgress, LessonProgress};

fn key(course: &str) -> String {
    format!("cartable.exercises.{course}")
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The progress kept for `course`; empty when there is none, or storage is refused or unreadable.
pub fn load(course: &str) -> CourseProgress {
    local_storage()
        .and_then(|storage| storage.get_item(&key(course)).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// The progress kept for one lesson of `course`.
pub fn lesson(course: &str, lesson: &str) -> LessonProgress {
    load(course).lesson(lesson).cloned().unwrap_or_default()
}

/// Records a checked answer in `course`'s progress, with the number of questions the exercise has.
/// Returns false when the browser refuses to keep it, so the page can say so.
pub fn record(course: &str, answer: &Answer, total: usize) -> bool {
    let mut progress = load(course);
    progress.record(answer, total);
    let Ok(json) = serde_json::to_string(&progress) else { return false };
    local_storage().is_some_and(|storage| storage.set_item(&key(course), &json).is_ok())
}
