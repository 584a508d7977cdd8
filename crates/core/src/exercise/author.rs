//! The teacher's side: `lessons/<lesson>.exercises.toml`, `[[question]]` tables read with line numbers so
//! that every mistake can be pointed at.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{Exercise, Kind, Question};
use crate::located::PackError;

/// What an exercises file's name ends with; the lesson is the same name ending in `.md`.
pub const EXERCISES_SUFFIX: &str = ".exercises.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExerciseToml {
    #[serde(default)]
    question: Vec<QuestionToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionToml {
    id: Spanned<String>,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    prompt: Spanned<String>,
    explanation: Option<String>,
    choices: Option<Spanned<Vec<String>>>,
    correct: Option<Spanned<Correct>>,
    value: Option<Spanned<f64>>,
    tolerance: Option<Spanned<f64>>,
    unit: Option<Spanned<String>>,
    accepted: Option<Spanned<Vec<String>>>,
    items: Option<Spanned<Vec<String>>>,
}

/// `correct = 2` or `correct = [1, 3]`: choices numbered from 1, as the pupil sees them.
#[derive(Deserialize)]
#[serde(untagged)]
enum Correct {
    One(i64),
    Many(Vec<i64>),
}

const KINDS: &str = "single_choice, multiple_choice, numeric, short_text, ordering or free_response";

/// Reads the exercises file `file` (its text `text`), checking every question: a known `type`, the fields
/// that type needs and no other, right choices in range, a tolerance of 0 or more, accepted answers, ids
/// used once.
pub fn parse_exercise(file: &str, text: &str) -> Result<Exercise, PackError> {
    let parsed: ExerciseToml = toml::from_str(text).map_err(|error| PackError::from_toml(file, text, &error))?;
    if parsed.question.is_empty() {
        return Err(PackError::new(file, "no question: add [[question]] tables with id, type and prompt"));
    }
    let mut questions: Vec<Question> = Vec::new();
    for toml in parsed.question {
        let at = |span: Range<usize>, message: String| PackError::at(file, text, span.start, message);
        if questions.iter().any(|question| question.id == *toml.id.get_ref()) {
            return Err(at(toml.id.span(), format!("id `{}` is used by another question", toml.id.get_ref())));
        }
        let question = question(&toml).map_err(|(span, message)| at(span, message))?;
        if let Some(problem) = question.problem() {
            return Err(at(span_of(&toml, &problem), problem));
        }
        questions.push(question);
    }
    Ok(Exercise { questions })
}

type Located = (Range<usize>, String);

fn question(toml: &QuestionToml) -> Result<Question, Located> {
    let kind = kind(toml)?;
    Ok(Question {
        id: toml.id.get_ref().clone(),
        prompt: toml.prompt.get_ref().clone(),
        kind,
        explanation: toml.explanation.clone().filter(|text| !text.trim().is_empty()),
    })
}

fn kind(toml: &QuestionToml) -> Result<Kind, Located> {
    let name = toml.kind.get_ref().as_str();
    let allowed: &[&str] = match name {
        "single_choice" | "multiple_choice" => &["choices", "correct"],
        "numeric" => &["value", "tolerance", "unit"],
        "short_text" => &["accepted"],
        "ordering" => &["items"],
        "free_response" => &[],
        _ => return Err((toml.kind.span(), format!("type `{name}` is not one of {KINDS}"))),
    };
    if let Some((field, span)) = fields(toml).into_iter().find(|(field, _)| !allowed.contains(field)) {
        return Err((span, format!("`{field}` has no meaning in a {name} question: remove it")));
    }
    let need = |field: &str| (toml.kind.span(), format!("a {name} question needs `{field}`"));
    let list =
        |list: &Option<Spanned<Vec<String>>>, field| list.as_ref().map(|l| l.get_ref().clone()).ok_or(need(field));
    Ok(match name {
        "single_choice" => {
            let correct = toml.correct.as_ref().ok_or(need("correct"))?;
            let Correct::One(index) = correct.get_ref() else {
                return Err((correct.span(), "correct must be one choice number, such as 2".into()));
            };
            Kind::SingleChoice { choices: list(&toml.choices, "choices")?, correct: from_one(*index, correct.span())? }
        }
        "multiple_choice" => {
            let correct = toml.correct.as_ref().ok_or(need("correct"))?;
            let mut indices = match correct.get_ref() {
                Correct::One(index) => vec![from_one(*index, correct.span())?],
                Correct::Many(many) => {
                    many.iter().map(|index| from_one(*index, correct.span())).collect::<Result<Vec<_>, _>>()?
                }
            };
            indices.sort_unstable();
            Kind::MultipleChoice { choices: list(&toml.choices, "choices")?, correct: indices }
        }
        "numeric" => Kind::Numeric {
            value: *toml.value.as_ref().ok_or(need("value"))?.get_ref(),
            tolerance: toml.tolerance.as_ref().map_or(0.0, |t| *t.get_ref()),
            unit: toml.unit.as_ref().map(|unit| unit.get_ref().clone()),
        },
        "short_text" => Kind::ShortText { accepted: list(&toml.accepted, "accepted")? },
        "ordering" => Kind::Ordering { items: list(&toml.items, "items")? },
        _ => Kind::FreeResponse {},
    })
}

/// A choice number as the teacher writes it (from 1) as an index (from 0).
fn from_one(number: i64, span: Range<usize>) -> Result<usize, Located> {
    match usize::try_from(number) {
        Ok(number) if number >= 1 => Ok(number - 1),
        _ => Err((span, format!("correct choice {number} does not exist: choices are numbered from 1"))),
    }
}

/// The optional fields present in a question, with their positions.
fn fields(toml: &QuestionToml) -> Vec<(&'static str, Range<usize>)> {
    let mut present = Vec::new();
    let mut add = |name, span: Option<Range<usize>>| present.extend(span.map(|span| (name, span)));
    add("choices", toml.choices.as_ref().map(Spanned::span));
    add("correct", toml.correct.as_ref().map(Spanned::span));
    add("value", toml.value.as_ref().map(Spanned::span));
    add("tolerance", toml.tolerance.as_ref().map(Spanned::span));
    add("unit", toml.unit.as_ref().map(Spanned::span));
    add("accepted", toml.accepted.as_ref().map(Spanned::span));
    add("items", toml.items.as_ref().map(Spanned::span));
    present
}

/// Where to point for a [`Question::problem`]: the field it names first, else the question's type.
fn span_of(toml: &QuestionToml, problem: &str) -> Range<usize> {
    let first = problem.split([' ', '`']).next().unwrap_or_default();
    let field = match first {
        "choice" => "choices",
        "item" => "items",
        other => other,
    };
    match field {
        "id" => toml.id.span(),
        "prompt" => toml.prompt.span(),
        _ => fields(toml).into_iter().find(|(name, _)| *name == field).map_or(toml.kind.span(), |(_, span)| span),
    }
}
