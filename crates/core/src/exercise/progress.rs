//! What a pupil has done in a lesson's exercise: each question's attempts, last grade and last response,
//! kept by the app in the browser and summed up for the course home.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Answer, Grade, Response};

/// Progress in one lesson's exercise, by question id.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct LessonProgress {
    /// Each question answered at least once.
    pub questions: BTreeMap<String, QuestionState>,
}

/// Where a pupil stands on one question.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct QuestionState {
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
    /// Questions answered at least once.
    pub answered: usize,
    /// Questions whose last attempt was right.
    pub correct: usize,
    /// Attempts over all questions.
    pub attempts: u32,
}

impl LessonProgress {
    /// The attempt number the next check of `question` will be.
    pub fn next_attempt(&self, question: &str) -> u32 {
        self.questions.get(question).map_or(1, |state| state.attempts.saturating_add(1))
    }

    /// Records a checked answer; an unreadable one is not an attempt and changes nothing.
    pub fn record(&mut self, answer: &Answer) {
        if !answer.grade.is_attempt() {
            return;
        }
        let state = QuestionState { attempts: answer.attempts, grade: answer.grade, response: answer.response.clone() };
        self.questions.insert(answer.question.clone(), state);
    }

    /// The figures of this progress.
    pub fn summary(&self) -> Summary {
        Summary {
            answered: self.questions.len(),
            correct: self.questions.values().filter(|state| state.grade == Grade::Correct).count(),
            attempts: self.questions.values().map(|state| state.attempts).fold(0, u32::saturating_add),
        }
    }
}
