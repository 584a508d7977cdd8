//! What a pupil has done in the exercises of a course: each question's attempts, last grade and last
//! response, kept by the app in the browser and summed up for the course home. Lists rather than maps,
//! searched in place: a course has a few lessons and a lesson a few questions, and a map's code weighs
//! kilobytes of every pupil's download.

use serde::{Deserialize, Serialize};

use super::{Answer, Grade, Response};

/// Progress in every lesson of one course.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CourseProgress {
    /// One entry per lesson with at least one answer.
    pub lessons: Vec<LessonProgress>,
}

/// Progress in one lesson's exercise.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct LessonProgress {
    /// The lesson's Markdown path.
    pub lesson: String,
    /// How many questions the exercise has, as last seen by the pupil.
    #[serde(default)]
    pub total: usize,
    /// Each question answered at least once.
    pub questions: Vec<QuestionState>,
}

/// Where a pupil stands on one question.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct QuestionState {
    /// The question's id.
    pub question: String,
    /// Attempts so far.
    pub attempts: u32,
    /// The grade of the last attempt.
    pub grade: Grade,
    /// The last response, so that a free answer typed is found again.
    pub response: Response,
}

/// A lesson's progress in figures, for the course home.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Questions in the exercise.
    pub total: usize,
    /// Questions answered at least once.
    pub answered: usize,
    /// Questions whose last attempt was right.
    pub correct: usize,
    /// Attempts over all questions.
    pub attempts: u32,
}

impl CourseProgress {
    /// The progress of `lesson`, if it has any.
    pub fn lesson(&self, lesson: &str) -> Option<&LessonProgress> {
        self.lessons.iter().find(|progress| progress.lesson == lesson)
    }

    /// Records a checked answer, with the number of questions its exercise has.
    pub fn record(&mut self, answer: &Answer, total: usize) {
        let index = match self.lessons.iter().position(|progress| progress.lesson == answer.lesson) {
            Some(index) => index,
            None => {
                let lesson = answer.lesson.clone();
                self.lessons.push(LessonProgress { lesson, ..LessonProgress::default() });
                self.lessons.len() - 1
            }
        };
        self.lessons[index].total = total;
        self.lessons[index].record(answer);
    }
}

impl LessonProgress {
    /// Where the pupil stands on `question`, if they answered it.
    pub fn question(&self, question: &str) -> Option<&QuestionState> {
        self.questions.iter().find(|state| state.question == question)
    }

    /// The attempt number the next check of `question` will be.
    pub fn next_attempt(&self, question: &str) -> u32 {
        self.question(question).map_or(1, |state| state.attempts.saturating_add(1))
    }

    /// Records a checked answer; an unreadable one is not an attempt and changes nothing.
    pub fn record(&mut self, answer: &Answer) {
        if !answer.grade.is_attempt() {
            return;
        }
        let state = QuestionState {
            question: answer.question.clone(),
            attempts: answer.attempts,
            grade: answer.grade,
            response: answer.response.clone(),
        };
        match self.questions.iter_mut().find(|kept| kept.question == answer.question) {
            Some(kept) => *kept = state,
            None => self.questions.push(state),
        }
    }

    /// The figures of this progress.
    pub fn summary(&self) -> Summary {
        Summary {
            total: self.total.max(self.questions.len()),
            answered: self.questions.len(),
            correct: self.questions.iter().filter(|state| state.grade == Grade::Correct).count(),
            attempts: self.questions.iter().map(|state| state.attempts).fold(0, u32::saturating_add),
        }
    }
}
