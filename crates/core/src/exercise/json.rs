//! The published form of a question: one flat JSON object (`{"id", "prompt", "type", "choices", ...}`),
//! decoded by a single struct decoder rather than one per kind of question, which saves kilobytes of
//! every pupil's download. Unknown fields and fields of another kind are refused.

use serde::{Deserialize, Serialize};

use super::{Kind, Question};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Flat {
    id: String,
    prompt: String,
    #[serde(rename = "type")]
    kind: KindName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    explanation: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    choices: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    correct: Vec<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tolerance: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    accepted: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    items: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum KindName {
    SingleChoice,
    MultipleChoice,
    Numeric,
    ShortText,
    Ordering,
    FreeResponse,
}

impl TryFrom<Flat> for Question {
    type Error = String;

    fn try_from(flat: Flat) -> Result<Question, String> {
        let present = [
            ("choices", !flat.choices.is_empty()),
            ("correct", !flat.correct.is_empty()),
            ("value", flat.value.is_some()),
            ("tolerance", flat.tolerance.is_some()),
            ("unit", flat.unit.is_some()),
            ("accepted", !flat.accepted.is_empty()),
            ("items", !flat.items.is_empty()),
        ];
        let allowed: &[&str] = match flat.kind {
            KindName::SingleChoice | KindName::MultipleChoice => &["choices", "correct"],
            KindName::Numeric => &["value", "tolerance", "unit"],
            KindName::ShortText => &["accepted"],
            KindName::Ordering => &["items"],
            KindName::FreeResponse => &[],
        };
        if let Some((field, _)) = present.iter().find(|(field, on)| *on && !allowed.contains(field)) {
            return Err(format!("question `{}`: `{field}` does not belong to its type", flat.id));
        }
        let kind = match flat.kind {
            KindName::SingleChoice => match flat.correct[..] {
                [correct] => Kind::SingleChoice { choices: flat.choices, correct },
                _ => return Err(format!("question `{}`: a single choice has one right choice", flat.id)),
            },
            KindName::MultipleChoice => Kind::MultipleChoice { choices: flat.choices, correct: flat.correct },
            KindName::Numeric => Kind::Numeric {
                value: flat.value.ok_or_else(|| format!("question `{}`: a numeric question needs a value", flat.id))?,
                tolerance: flat.tolerance.unwrap_or(0.0),
                unit: flat.unit,
            },
            KindName::ShortText => Kind::ShortText { accepted: flat.accepted },
            KindName::Ordering => Kind::Ordering { items: flat.items },
            KindName::FreeResponse => Kind::FreeResponse {},
        };
        Ok(Question { id: flat.id, prompt: flat.prompt, kind, explanation: flat.explanation })
    }
}

impl From<Question> for Flat {
    fn from(question: Question) -> Flat {
        let mut flat = Flat {
            id: question.id,
            prompt: question.prompt,
            kind: KindName::FreeResponse,
            explanation: question.explanation,
            choices: Vec::new(),
            correct: Vec::new(),
            value: None,
            tolerance: None,
            unit: None,
            accepted: Vec::new(),
            items: Vec::new(),
        };
        match question.kind {
            Kind::SingleChoice { choices, correct } => {
                (flat.kind, flat.choices, flat.correct) = (KindName::SingleChoice, choices, vec![correct]);
            }
            Kind::MultipleChoice { choices, correct } => {
                (flat.kind, flat.choices, flat.correct) = (KindName::MultipleChoice, choices, correct);
            }
            Kind::Numeric { value, tolerance, unit } => {
                (flat.kind, flat.value, flat.tolerance, flat.unit) =
                    (KindName::Numeric, Some(value), Some(tolerance), unit);
            }
            Kind::ShortText { accepted } => (flat.kind, flat.accepted) = (KindName::ShortText, accepted),
            Kind::Ordering { items } => (flat.kind, flat.items) = (KindName::Ordering, items),
            Kind::FreeResponse {} => {}
        }
        flat
    }
}
