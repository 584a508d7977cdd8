//! Grading a response against a question's key, and the foldings it needs: French decimal commas and
//! units for numbers, case, accents and spaces for words.

use super::{Grade, Kind, Question, Response, Unreadable};

/// Grades `response` to `question`. Never panics: a response of another kind, or naming a choice or
/// item that does not exist, is [`Unreadable::NotThisQuestion`].
pub fn grade(question: &Question, response: &Response) -> Grade {
    use Grade::{Correct, Incorrect, Unreadable as Unread};
    match (&question.kind, response) {
        (Kind::SingleChoice { choices, correct }, Response::Choice(chosen)) => match *chosen < choices.len() {
            true if chosen == correct => Correct,
            true => Incorrect,
            false => Unread(Unreadable::NotThisQuestion),
        },
        (Kind::MultipleChoice { choices, correct }, Response::Choices(ticked)) => {
            multiple_choice(choices.len(), correct, ticked)
        }
        (Kind::Numeric { value, tolerance, unit }, Response::Number(typed)) => {
            numeric(*value, *tolerance, unit.as_deref(), typed)
        }
        (Kind::ShortText { accepted }, Response::Text(typed)) => {
            let typed = fold_text(typed);
            match typed.is_empty() {
                true => Unread(Unreadable::Empty),
                false if accepted.iter().any(|answer| fold_text(answer) == typed) => Correct,
                false => Incorrect,
            }
        }
        (Kind::Ordering { items }, Response::Order(order)) => match is_permutation(order, items.len()) {
            false => Unread(Unreadable::NotThisQuestion),
            true if order.iter().copied().eq(0..items.len()) => Correct,
            true => Incorrect,
        },
        (Kind::FreeResponse {}, Response::Free(text)) => match text.trim().is_empty() {
            true => Unread(Unreadable::Empty),
            false => Grade::Kept,
        },
        _ => Unread(Unreadable::NotThisQuestion),
    }
}

fn multiple_choice(count: usize, correct: &[usize], ticked: &[usize]) -> Grade {
    if ticked.is_empty() {
        return Grade::Unreadable(Unreadable::Empty);
    }
    if ticked.iter().any(|&index| index >= count) {
        return Grade::Unreadable(Unreadable::NotThisQuestion);
    }
    // Sets as flags rather than sorted lists: no sort code in the pupil's download.
    let mut chosen = vec![false; count];
    ticked.iter().for_each(|&index| chosen[index] = true);
    let wrong = chosen.iter().enumerate().any(|(index, &on)| on && !correct.contains(&index));
    let missing = correct.iter().any(|&index| !chosen.get(index).copied().unwrap_or(false));
    match (wrong, missing) {
        (false, false) => Grade::Correct,
        (false, true) => Grade::Partial,
        (true, _) => Grade::Incorrect,
    }
}

/// Whether `order` holds each of `0..count` exactly once.
fn is_permutation(order: &[usize], count: usize) -> bool {
    let mut seen = vec![false; count];
    order.len() == count && order.iter().all(|&index| index < count && !std::mem::replace(&mut seen[index], true))
}

fn numeric(value: f64, tolerance: f64, unit: Option<&str>, typed: &str) -> Grade {
    if typed.trim().is_empty() {
        return Grade::Unreadable(Unreadable::Empty);
    }
    let Some(quantity) = parse_quantity(typed) else { return Grade::Unreadable(Unreadable::NotANumber) };
    let Some(number) = in_unit(&quantity, unit) else { return Grade::Incorrect };
    // Decimal values are not exact in binary: 3,4 is "0.1 away" from 3,5 only up to rounding.
    let slack = 1e-9 * value.abs().max(1.0);
    match (number - value).abs() <= tolerance + slack {
        true => Grade::Correct,
        false => Grade::Incorrect,
    }
}

/// A number as a pupil typed it, and the unit written after it (empty when none).
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    /// The finite number.
    pub number: f64,
    /// What followed the number, spaces trimmed.
    pub unit: String,
}

/// Reads `3,5 V`, `3.5V`, `-0,25`, `1 000 W` (spaces between groups of three digits): a finite number with
/// a decimal comma or point, then perhaps a unit. `None` for anything else (`NaN`, `inf`, `3,5,2`, `V`).
pub fn parse_quantity(typed: &str) -> Option<Quantity> {
    let typed = typed.trim();
    let (sign, rest) = match typed.strip_prefix(['-', '−']) {
        Some(rest) => (-1.0, rest),
        None => (1.0, typed.strip_prefix('+').unwrap_or(typed)),
    };
    let (digits, unit) = split_number(rest)?;
    let number = decimal(&digits)?;
    Some(Quantity { number: sign * number, unit: unit.trim().to_owned() })
}

/// `12.50` as a number: digits and at most one point. Simpler than `str::parse` (whose exact rounding
/// costs kilobytes of wasm): exact up to 15 significant digits, which grading with a tolerance needs;
/// `None` past 19 digits.
fn decimal(digits: &str) -> Option<f64> {
    let (mut mantissa, mut decimals, mut after_point) = (0u64, 0i32, false);
    for c in digits.chars() {
        match c.to_digit(10) {
            Some(digit) => {
                mantissa = mantissa.checked_mul(10)?.checked_add(u64::from(digit))?;
                decimals += i32::from(after_point);
            }
            None => after_point = true,
        }
    }
    Some(mantissa as f64 / 10f64.powi(decimals))
}

/// Splits the number (normalised to a decimal point, group spaces removed) from what follows it.
fn split_number(text: &str) -> Option<(String, &str)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let (mut number, mut separator, mut end) = (String::new(), false, text.len());
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let next_digit = chars.get(i + 1).is_some_and(|(_, c)| c.is_ascii_digit());
        if c.is_ascii_digit() {
            number.push(c);
        } else if (c == ',' || c == '.') && !separator && next_digit && !number.is_empty() {
            separator = true;
            number.push('.');
        } else if is_group_space(c) && !separator && group_follows(&chars[i + 1..]) && !number.is_empty() {
            // A thousands space ("1 000"): skipped.
        } else {
            end = at;
            break;
        }
        i += 1;
    }
    let unit = &text[end..];
    // "3,5,2" or "3.5.2": a second separator right after the number is not a unit.
    let starts_badly = unit.starts_with([',', '.']) || unit.starts_with(|c: char| c.is_ascii_digit());
    (!number.is_empty() && !starts_badly).then_some((number, unit))
}

fn is_group_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}')
}

/// Whether exactly three digits follow, then no further digit.
fn group_follows(rest: &[(usize, char)]) -> bool {
    rest.len() >= 3
        && rest[..3].iter().all(|(_, c)| c.is_ascii_digit())
        && !rest.get(3).is_some_and(|(_, c)| c.is_ascii_digit())
}

/// The number in the expected unit: as is when no unit is written or it is the expected one, scaled when
/// it is the expected one with an SI prefix (`350 mA` for `A`); `None` for any other unit.
fn in_unit(quantity: &Quantity, unit: Option<&str>) -> Option<f64> {
    let written = quantity.unit.as_str();
    let Some(unit) = unit else { return written.is_empty().then_some(quantity.number) };
    if written.is_empty() || same_unit(written, unit) {
        return Some(quantity.number);
    }
    const PREFIXES: [(&str, f64); 6] = [("k", 1e3), ("M", 1e6), ("G", 1e9), ("m", 1e-3), ("µ", 1e-6), ("u", 1e-6)];
    PREFIXES
        .iter()
        .find_map(|(prefix, factor)| {
            let rest = written.strip_prefix(prefix)?;
            same_unit(rest, unit).then_some(quantity.number * factor)
        })
        // Undo the expected unit's own prefix when both have one (`kWh` asked, `Wh` given).
        .or_else(|| {
            let (prefix, factor) = PREFIXES.iter().find(|(prefix, _)| unit.starts_with(prefix) && unit.len() > 1)?;
            let base = &unit[prefix.len()..];
            same_unit(written, base).then_some(quantity.number / factor)
        })
}

/// Units compare without spaces or dots (`kW h`, `kW.h`, `kWh`), and `ohm` stands for `Ω`.
fn same_unit(written: &str, expected: &str) -> bool {
    let squeeze = |unit: &str| -> String {
        unit.replace("ohms", "Ω")
            .replace("ohm", "Ω")
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '.' && *c != '·')
            .collect()
    };
    squeeze(written) == squeeze(expected)
}

/// Folds words for comparison: case, accents (`é` → `e`, `œ` → `oe`, combining marks dropped), typographic
/// apostrophes, spaces trimmed and collapsed.
pub fn fold_text(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => folded.push('a'),
            'ç' => folded.push('c'),
            'é' | 'è' | 'ê' | 'ë' => folded.push('e'),
            'î' | 'ï' | 'í' | 'ì' => folded.push('i'),
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => folded.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => folded.push('u'),
            'ÿ' | 'ý' => folded.push('y'),
            'ñ' => folded.push('n'),
            'œ' => folded.push_str("oe"),
            'æ' => folded.push_str("ae"),
            '’' | 'ʼ' | '‘' => folded.push('\''),
            '\u{300}'..='\u{36f}' => {}
            c if c.is_whitespace() => {
                if !folded.is_empty() && !folded.ends_with(' ') {
                    folded.push(' ');
                }
            }
            c => folded.push(c),
        }
    }
    if folded.ends_with(' ') {
        folded.pop();
    }
    folded
}
