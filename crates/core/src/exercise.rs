//! Exercises graded offline: the model a teacher authors beside a lesson, a pupil's response, and the
//! grade the core gives it. Pure: the packer reads the teacher's TOML (`author`), publishes the checked
//! exercise as JSON, and the app reads it back through [`from_json`], which checks it again.

use serde::{Deserialize, Serialize};

mod author;
mod grade;
mod json;
mod progress;

pub use author::{parse_exercise, EXERCISES_SUFFIX};
pub use grade::{fold_text, grade, parse_quantity, Quantity};
pub use progress::{CourseProgress, LessonProgress, QuestionState, Summary};

/// The exercise of one lesson: its questions, in the teacher's order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// The questions; ids are unique within the exercise.
    pub questions: Vec<Question>,
}

/// One question: what is asked, how it is answered and what the teacher explains afterwards. Published
/// as one flat JSON object (`{"id", "prompt", "type": "numeric", "value", ...}`, see `json`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(try_from = "json::Flat", into = "json::Flat")]
pub struct Question {
    /// Stable identifier within the exercise (what progress and hand-ins are keyed by).
    pub id: String,
    /// The question as the pupil reads it.
    pub prompt: String,
    /// What kind of answer is expected, with the key to grade it.
    pub kind: Kind,
    /// The teacher's explanation, shown after the pupil checks an answer.
    pub explanation: Option<String>,
}

/// The kinds of question and their keys. Choice indices are 0-based here (the teacher writes 1-based).
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// One choice among several.
    SingleChoice {
        /// The choices, in the order shown.
        choices: Vec<String>,
        /// Index of the right choice.
        correct: usize,
    },
    /// Any number of choices among several.
    MultipleChoice {
        /// The choices, in the order shown.
        choices: Vec<String>,
        /// Indices of the right choices, at least one, ascending.
        correct: Vec<usize>,
    },
    /// A number, right within `tolerance` (inclusive), in `unit` when there is one.
    Numeric {
        /// The expected value.
        value: f64,
        /// How far from `value` an answer may be and still be right (0 or more).
        tolerance: f64,
        /// The unit the value is in, such as `V` or `kWh`.
        unit: Option<String>,
    },
    /// A few words, right when they match one of the accepted answers once case, accents and spaces
    /// are folded.
    ShortText {
        /// The accepted answers, at least one.
        accepted: Vec<String>,
    },
    /// Items to put in order; `items` is the right order.
    Ordering {
        /// The items, in the right order (two or more).
        items: Vec<String>,
    },
    /// A free answer, kept for the teacher and not graded.
    FreeResponse {},
}

/// What a pupil answered to one question (`{"number": "3,5 V"}`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// The index of the chosen choice.
    Choice(usize),
    /// The indices of the ticked choices.
    Choices(Vec<usize>),
    /// A number as typed, with or without its unit (`3,5 V`).
    Number(String),
    /// Words as typed.
    Text(String),
    /// Indices of [`Kind::Ordering`] items, in the order the pupil put them.
    Order(Vec<usize>),
    /// A free answer for the teacher.
    Free(String),
}

/// The core's verdict on a response.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// Right.
    Correct,
    /// Right as far as it goes: only right choices ticked, but not all of them.
    Partial,
    /// Wrong.
    Incorrect,
    /// A free response, kept for the teacher.
    Kept,
    /// Not an answer to grade (empty, not a number, a choice that does not exist): not an attempt.
    Unreadable(Unreadable),
}

/// Why a response could not be graded, so the pupil can be told.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Unreadable {
    /// Nothing was answered.
    Empty,
    /// The text is not a finite number (with perhaps a unit after it).
    NotANumber,
    /// A choice or item that the question does not have, or a response of another kind.
    NotThisQuestion,
}

impl Grade {
    /// Whether the response counts as an attempt (it could be graded or kept).
    pub fn is_attempt(self) -> bool {
        !matches!(self, Grade::Unreadable(_))
    }
}

/// A checked answer handed in: what the pupil answered to which question, its grade, and how many
/// attempts it took. This is what progress records and what a hand-in to the school carries.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The lesson's Markdown path (`lessons/01-tension.md`).
    pub lesson: String,
    /// The published exercise's path (`lessons/01-tension.exercises.json`).
    pub exercise: String,
    /// The question's id.
    pub question: String,
    /// What the pupil answered.
    pub response: Response,
    /// The core's grade of it.
    pub grade: Grade,
    /// Attempts at this question so far, this one included.
    pub attempts: u32,
}

/// A question the app cannot use, found by [`from_json`] or by the packer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExerciseError {
    /// Not JSON, or not shaped like an exercise.
    #[error("exercise is malformed: {0}")]
    Malformed(String),
    /// A question breaks a rule of [`Question::problem`].
    #[error("question `{id}`: {problem}")]
    Question {
        /// The question's id.
        id: String,
        /// What is wrong.
        problem: String,
    },
}

impl Question {
    /// What is wrong with this question, if anything: an empty id or prompt, fewer than two choices, a
    /// right choice out of range, no right choice, a negative or non-finite tolerance or value, no
    /// accepted answer, fewer than two items to order, an empty choice, answer or item.
    pub fn problem(&self) -> Option<String> {
        if self.id.trim().is_empty() {
            return Some("id is empty".into());
        }
        if self.prompt.trim().is_empty() {
            return Some("prompt is empty: write the question".into());
        }
        self.kind.problem()
    }
}

impl Kind {
    fn problem(&self) -> Option<String> {
        let blank = |list: &[String], what: &str| {
            list.iter().position(|s| s.trim().is_empty()).map(|i| format!("{what} {} is empty", i + 1))
        };
        match self {
            Kind::SingleChoice { choices, correct } => {
                choices_problem(choices, std::slice::from_ref(correct)).or_else(|| blank(choices, "choice"))
            }
            Kind::MultipleChoice { choices, correct } => {
                choices_problem(choices, correct).or_else(|| blank(choices, "choice"))
            }
            Kind::Numeric { value, tolerance, unit } => {
                if !value.is_finite() {
                    Some("value must be a finite number".into())
                } else if !tolerance.is_finite() || *tolerance < 0.0 {
                    Some("tolerance must be a number, 0 or more".into())
                } else if unit.as_ref().is_some_and(|unit| unit.trim().is_empty() || unit.trim() != unit) {
                    Some("unit must not be empty or start or end with spaces".into())
                } else {
                    None
                }
            }
            Kind::ShortText { accepted } if accepted.is_empty() => Some("accepted needs at least one answer".into()),
            Kind::ShortText { accepted } => blank(accepted, "accepted answer"),
            Kind::Ordering { items } if items.len() < 2 => Some("items needs at least two items to order".into()),
            Kind::Ordering { items } => blank(items, "item"),
            Kind::FreeResponse {} => None,
        }
    }
}

fn choices_problem(choices: &[String], correct: &[usize]) -> Option<String> {
    if choices.len() < 2 {
        return Some("choices needs at least two choices".into());
    }
    if correct.is_empty() {
        return Some("correct needs at least one right choice".into());
    }
    if let Some(index) = correct.iter().find(|&&index| index >= choices.len()) {
        return Some(format!("correct choice {} is out of range: there are {} choices", index + 1, choices.len()));
    }
    if correct.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Some("correct lists a choice twice".into());
    }
    None
}

impl Exercise {
    /// What is wrong with the exercise, if anything: no question, a repeated id, or a question's
    /// [`Question::problem`].
    pub fn problem(&self) -> Option<ExerciseError> {
        if self.questions.is_empty() {
            return Some(ExerciseError::Malformed("no question".into()));
        }
        let mut seen = std::collections::BTreeSet::new();
        self.questions.iter().find_map(|question| {
            let problem = question.problem().or_else(|| {
                (!seen.insert(question.id.as_str())).then(|| "id is used by another question".to_owned())
            })?;
            Some(ExerciseError::Question { id: question.id.clone(), problem })
        })
    }

    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|question| question.id == id)
    }

    /// The exercise as published JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // A tree of strings and finite numbers always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Reads a published exercise and checks it again, so that a faulty packer cannot hand the app a
/// question it would grade wrongly (a right choice that does not exist, a negative tolerance...).
pub fn from_json(json: &[u8]) -> Result<Exercise, ExerciseError> {
    let exercise: Exercise =
        serde_json::from_slice(json).map_err(|error| ExerciseError::Malformed(error.to_string()))?;
    match exercise.problem() {
        Some(problem) => Err(problem),
        None => Ok(exercise),
    }
}

/// The order in which the items of an ordering question are first shown: sorted by their folded text,
/// so it is the same on every device, and never already the right order (then rotated by one).
pub fn shown_order(items: &[String]) -> Vec<usize> {
    let folded: Vec<String> = items.iter().map(|item| fold_text(item)).collect();
    // An insertion sort: a question has a handful of items, and a library sort weighs kilobytes of wasm.
    let mut order: Vec<usize> = Vec::with_capacity(items.len());
    for index in 0..items.len() {
        let at = order.iter().position(|&other| folded[index] < folded[other]).unwrap_or(order.len());
        order.insert(at, index);
    }
    if order.iter().enumerate().all(|(position, &index)| position == index) {
        order.rotate_left(1);
    }
    order
}

#[cfg(test)]
mod tests;
