use super::*;
use Grade::{Correct, Incorrect, Kept, Partial, Unreadable as Unread};
use Unreadable::{Empty, NotANumber, NotThisQuestion};

fn question(kind: Kind) -> Question {
    Question { id: "q".into(), prompt: "?".into(), kind, explanation: None }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[track_caller]
fn check(question: &Question, cases: &[(Response, Grade)]) {
    for (response, expected) in cases {
        assert_eq!(grade(question, response), *expected, "{response:?}");
    }
}

#[test]
fn grades_single_choice() {
    let q = question(Kind::SingleChoice { choices: strings(&["230 V", "12 V", "1,5 V"]), correct: 0 });
    check(
        &q,
        &[
            (Response::Choice(0), Correct),
            (Response::Choice(1), Incorrect),
            (Response::Choice(2), Incorrect),
            (Response::Choice(3), Unread(NotThisQuestion)),
            (Response::Choice(usize::MAX), Unread(NotThisQuestion)),
            (Response::Choices(vec![0]), Unread(NotThisQuestion)),
        ],
    );
}

#[test]
fn grades_multiple_choice() {
    let q = question(Kind::MultipleChoice { choices: strings(&["a", "b", "c", "d"]), correct: vec![0, 2] });
    check(
        &q,
        &[
            (Response::Choices(vec![0, 2]), Correct),
            (Response::Choices(vec![2, 0]), Correct),
            (Response::Choices(vec![0, 2, 2]), Correct),
            (Response::Choices(vec![0]), Partial),
            (Response::Choices(vec![0, 1]), Incorrect),
            (Response::Choices(vec![0, 1, 2, 3]), Incorrect),
            (Response::Choices(vec![3]), Incorrect),
            (Response::Choices(vec![]), Unread(Empty)),
            (Response::Choices(vec![0, 4]), Unread(NotThisQuestion)),
            (Response::Choice(0), Unread(NotThisQuestion)),
        ],
    );
}

#[test]
fn grades_numbers_with_decimal_comma_unit_and_inclusive_tolerance() {
    let q = question(Kind::Numeric { value: 3.5, tolerance: 0.1, unit: Some("V".into()) });
    let number = |typed: &str| Response::Number(typed.into());
    check(
        &q,
        &[
            (number("3,5"), Correct),
            (number("3.5"), Correct),
            (number(" 3,5 V "), Correct),
            (number("3.5V"), Correct),
            (number("+3,50"), Correct),
            (number("3,4"), Correct),
            (number("3,6 V"), Correct),
            (number("3,39"), Incorrect),
            (number("3,61"), Incorrect),
            (number("-3,5"), Incorrect),
            (number("3500 mV"), Correct),
            (number("0,0035 kV"), Correct),
            (number("3,5 A"), Incorrect),
            (number("3,5 V V"), Incorrect),
            (number("3,5 V A"), Incorrect),
            (number(""), Unread(Empty)),
            (number("   "), Unread(Empty)),
            (number("V"), Unread(NotANumber)),
            (number("NaN"), Unread(NotANumber)),
            (number("inf"), Unread(NotANumber)),
            (number("-inf V"), Unread(NotANumber)),
            (number("3,5,2"), Unread(NotANumber)),
            (number("3..5"), Unread(NotANumber)),
            (number(&format!("1{}", "0".repeat(400))), Unread(NotANumber)),
            (Response::Text("3,5".into()), Unread(NotThisQuestion)),
        ],
    );
}

#[test]
fn grades_numbers_exactly_without_tolerance_or_unit() {
    let q = question(Kind::Numeric { value: 1000.0, tolerance: 0.0, unit: None });
    let number = |typed: &str| Response::Number(typed.into());
    check(
        &q,
        &[
            (number("1000"), Correct),
            (number("1 000"), Correct),
            (number("1\u{202f}000"), Correct),
            (number("1000,0"), Correct),
            (number("1000,01"), Incorrect),
            (number("1 00"), Incorrect),
            (number("1000 W"), Incorrect),
        ],
    );
    let energy = question(Kind::Numeric { value: 2.0, tolerance: 0.0, unit: Some("kWh".into()) });
    check(
        &energy,
        &[
            (number("2 kWh"), Correct),
            (number("2 kW.h"), Correct),
            (number("2000 Wh"), Correct),
            (number("2 Wh"), Incorrect),
        ],
    );
    let resistance = question(Kind::Numeric { value: 220.0, tolerance: 5.0, unit: Some("Ω".into()) });
    check(&resistance, &[(number("220 ohms"), Correct), (number("0,22 kΩ"), Correct), (number("0,22 kohm"), Correct)]);
}

#[test]
fn grades_short_text_folding_case_accents_and_spaces() {
    let q = question(Kind::ShortText { accepted: strings(&["l'ampèremètre", "un ampèremètre"]) });
    let text = |typed: &str| Response::Text(typed.into());
    check(
        &q,
        &[
            (text("l'ampèremètre"), Correct),
            (text("  L'AMPEREMETRE "), Correct),
            (text("l’ampèremètre"), Correct),
            (text("l'ampe\u{300}reme\u{300}tre"), Correct),
            (text("un   ampèremètre"), Correct),
            (text("Un\tAmpèremètre"), Correct),
            (text("unampèremètre"), Incorrect),
            (text("le voltmètre"), Incorrect),
            (text(""), Unread(Empty)),
            (text(" \n "), Unread(Empty)),
            (Response::Free("l'ampèremètre".into()), Unread(NotThisQuestion)),
        ],
    );
    let heart = question(Kind::ShortText { accepted: strings(&["cœur"]) });
    check(&heart, &[(text("coeur"), Correct), (text("CŒUR"), Correct), (text("cour"), Incorrect)]);
}

#[test]
fn grades_ordering_by_exact_order() {
    let q = question(Kind::Ordering { items: strings(&["générateur", "interrupteur", "lampe"]) });
    let order = |order: &[usize]| Response::Order(order.to_vec());
    check(
        &q,
        &[
            (order(&[0, 1, 2]), Correct),
            (order(&[1, 0, 2]), Incorrect),
            (order(&[2, 1, 0]), Incorrect),
            (order(&[0, 1]), Unread(NotThisQuestion)),
            (order(&[0, 1, 1]), Unread(NotThisQuestion)),
            (order(&[0, 1, 2, 3]), Unread(NotThisQuestion)),
            (order(&[]), Unread(NotThisQuestion)),
            (Response::Choices(vec![0, 1, 2]), Unread(NotThisQuestion)),
        ],
    );
}

#[test]
fn keeps_free_responses_for_the_teacher() {
    let q = question(Kind::FreeResponse {});
    check(
        &q,
        &[
            (Response::Free("Le fusible protège les fils.".into()), Kept),
            (Response::Free("   ".into()), Unread(Empty)),
            (Response::Free(String::new()), Unread(Empty)),
            (Response::Text("x".into()), Unread(NotThisQuestion)),
        ],
    );
}

#[test]
fn shows_ordering_items_never_in_the_right_order() {
    assert_eq!(shown_order(&strings(&["c", "a", "b"])), [1, 2, 0]);
    assert_eq!(shown_order(&strings(&["a", "b", "c"])), [1, 2, 0], "sorted is the answer: rotated");
    assert_eq!(shown_order(&strings(&["Été", "automne"])), [1, 0]);
}

#[test]
fn progress_counts_attempts_and_last_grades() {
    let mut progress = LessonProgress { lesson: "lessons/01.md".into(), total: 4, ..LessonProgress::default() };
    let answer = |question: &str, grade, attempts| Answer {
        lesson: "lessons/01.md".into(),
        exercise: "lessons/01.exercises.json".into(),
        question: question.into(),
        response: Response::Choice(0),
        grade,
        attempts,
    };
    assert_eq!(progress.next_attempt("a"), 1);
    progress.record(&answer("a", Incorrect, 1));
    progress.record(&answer("a", Grade::Unreadable(Empty), 2));
    assert_eq!(progress.next_attempt("a"), 2, "an unreadable response is not an attempt");
    progress.record(&answer("a", Correct, 2));
    progress.record(&answer("b", Kept, 1));
    progress.record(&answer("c", Partial, 1));
    assert_eq!(progress.summary(), Summary { total: 4, answered: 3, correct: 1, attempts: 4 });
    assert_eq!(progress.question("a").map(|state| (state.attempts, state.grade)), Some((2, Correct)));
    let mut course = CourseProgress::default();
    course.record(&answer("a", Correct, 1), 4);
    course.record(&Answer { lesson: "lessons/02.md".into(), ..answer("z", Incorrect, 1) }, 2);
    course.record(&answer("b", Incorrect, 1), 4);
    assert_eq!(
        course.lesson("lessons/01.md").map(LessonProgress::summary),
        Some(Summary { total: 4, answered: 2, correct: 1, attempts: 2 })
    );
    assert_eq!(
        course.lesson("lessons/02.md").map(LessonProgress::summary),
        Some(Summary { total: 2, answered: 1, correct: 0, attempts: 1 })
    );
    assert_eq!(course.lesson("lessons/03.md"), None);
    let json = serde_json::to_string(&course).unwrap();
    assert_eq!(serde_json::from_str::<CourseProgress>(&json).unwrap(), course);
}

const GOOD: &str = r#"
[[question]]
id = "unite"
type = "single_choice"
prompt = "Quelle est l'unité de la tension ?"
choices = ["l'ampère", "le volt", "le watt"]
correct = 2
explanation = "La tension se mesure en volts (V)."

[[question]]
id = "dipoles"
type = "multiple_choice"
prompt = "Lesquels sont des dipôles ?"
choices = ["une lampe", "un fil", "une pile"]
correct = [3, 1]

[[question]]
id = "tension"
type = "numeric"
prompt = "Tension aux bornes de la lampe ?"
value = 3.5
tolerance = 0.1
unit = "V"

[[question]]
id = "appareil"
type = "short_text"
prompt = "Quel appareil mesure l'intensité ?"
accepted = ["ampèremètre", "un ampèremètre"]

[[question]]
id = "ordre"
type = "ordering"
prompt = "Dans l'ordre du circuit :"
items = ["pile", "interrupteur", "lampe"]

[[question]]
id = "libre"
type = "free_response"
prompt = "Expliquez."
"#;

const FILE: &str = "lessons/01.exercises.toml";

#[test]
fn reads_every_kind_of_question_and_publishes_it() {
    let exercise = parse_exercise(FILE, GOOD).unwrap();
    let kinds: Vec<&Kind> = exercise.questions.iter().map(|q| &q.kind).collect();
    assert_eq!(kinds[0], &Kind::SingleChoice { choices: strings(&["l'ampère", "le volt", "le watt"]), correct: 1 });
    assert_eq!(
        kinds[1],
        &Kind::MultipleChoice { choices: strings(&["une lampe", "un fil", "une pile"]), correct: vec![0, 2] }
    );
    assert_eq!(kinds[2], &Kind::Numeric { value: 3.5, tolerance: 0.1, unit: Some("V".into()) });
    assert_eq!(kinds[5], &Kind::FreeResponse {});
    assert_eq!(exercise.questions[0].explanation.as_deref(), Some("La tension se mesure en volts (V)."));
    assert_eq!(from_json(&exercise.to_json()).unwrap(), exercise);
}

#[track_caller]
fn check_error(text: &str, expected: &str) {
    assert_eq!(parse_exercise(FILE, text).unwrap_err().to_string(), expected);
}

#[test]
fn points_at_exercise_mistakes() {
    let f = FILE;
    check_error("", &format!("{f}: no question: add [[question]] tables with id, type and prompt"));
    check_error(
        &GOOD.replace("correct = 2", "correct = 4"),
        &format!("{f}:7: correct choice 4 is out of range: there are 3 choices"),
    );
    check_error(
        &GOOD.replace("correct = 2", "correct = 0"),
        &format!("{f}:7: correct choice 0 does not exist: choices are numbered from 1"),
    );
    check_error(
        &GOOD.replace("correct = 2", "correct = [1, 2]"),
        &format!("{f}:7: correct must be one choice number, such as 2"),
    );
    check_error(
        &GOOD.replace("correct = [3, 1]", "correct = []"),
        &format!("{f}:15: correct needs at least one right choice"),
    );
    check_error(
        &GOOD.replace("correct = [3, 1]", "correct = [1, 1]"),
        &format!("{f}:15: correct lists a choice twice"),
    );
    check_error(
        &GOOD.replace("correct = [3, 1]\n", ""),
        &format!("{f}:12: a multiple_choice question needs `correct`"),
    );
    check_error(
        &GOOD.replace("tolerance = 0.1", "tolerance = -0.1"),
        &format!("{f}:22: tolerance must be a number, 0 or more"),
    );
    check_error(
        &GOOD.replace("tolerance = 0.1", "tolerance = nan"),
        &format!("{f}:22: tolerance must be a number, 0 or more"),
    );
    check_error(
        &GOOD.replace("value = 3.5", "value = \"3,5\""),
        &format!("{f}:21: invalid type: string \"3,5\", expected f64"),
    );
    check_error(
        &GOOD.replace("value = 3.5", "choices = [\"a\", \"b\"]"),
        &format!("{f}:21: `choices` has no meaning in a numeric question: remove it"),
    );
    check_error(
        &GOOD.replace("accepted = [\"ampèremètre\", \"un ampèremètre\"]", "accepted = []"),
        &format!("{f}:29: accepted needs at least one answer"),
    );
    check_error(&GOOD.replace("\"un ampèremètre\"", "\" \""), &format!("{f}:29: accepted answer 2 is empty"));
    check_error(
        &GOOD.replace("[\"pile\", \"interrupteur\", \"lampe\"]", "[\"pile\"]"),
        &format!("{f}:35: items needs at least two items to order"),
    );
    check_error(
        &GOOD.replace("id = \"libre\"", "id = \"unite\""),
        &format!("{f}:38: id `unite` is used by another question"),
    );
    check_error(&GOOD.replace("\"free_response\"", "\"essay\""), &format!("{f}:39: type `essay` is not one of single_choice, multiple_choice, numeric, short_text, ordering or free_response"));
    check_error(
        &GOOD.replace("prompt = \"Expliquez.\"", "prompt = \" \""),
        &format!("{f}:40: prompt is empty: write the question"),
    );
    check_error(
        &GOOD.replace("choices = [\"l'ampère\", \"le volt\", \"le watt\"]", "choices = [\"le volt\"]"),
        &format!("{f}:6: choices needs at least two choices"),
    );
    check_error(&format!("{GOOD}hint = \"x\"\n"), &format!("{f}:41: unknown field `hint`, expected one of `id`, `type`, `prompt`, `explanation`, `choices`, `correct`, `value`, `tolerance`, `unit`, `accepted`, `items`"));
}

#[test]
fn reading_published_exercises_checks_them_again() {
    let refused = |json: &str| from_json(json.as_bytes()).unwrap_err().to_string();
    let single = r#"{"questions":[{"id":"q","prompt":"?","type":"single_choice","choices":["a","b"],"correct":[2]}]}"#;
    assert_eq!(refused(single), "question `q`: correct choice 3 is out of range: there are 2 choices");
    let numeric = r#"{"questions":[{"id":"q","prompt":"?","type":"numeric","value":1,"tolerance":-1}]}"#;
    assert_eq!(refused(numeric), "question `q`: tolerance must be a number, 0 or more");
    let twice = r#"{"questions":[{"id":"q","prompt":"?","type":"free_response"},{"id":"q","prompt":"!","type":"free_response"}]}"#;
    assert_eq!(refused(twice), "question `q`: id is used by another question");
    assert_eq!(refused(r#"{"questions":[]}"#), "exercise is malformed: no question");
    let extra = r#"{"questions":[{"id":"q","prompt":"?","type":"free_response","answer":1}]}"#;
    assert!(refused(extra).contains("unknown field `answer`"), "{}", refused(extra));
    let extra_top = r#"{"questions":[{"id":"q","prompt":"?","type":"free_response"}],"script":"x"}"#;
    assert!(refused(extra_top).contains("unknown field `script`"));
    assert!(refused("not json").starts_with("exercise is malformed"));
    let foreign = r#"{"questions":[{"id":"q","prompt":"?","type":"numeric","value":1,"choices":["a","b"]}]}"#;
    assert!(refused(foreign).contains("question `q`: `choices` does not belong to its type"), "{}", refused(foreign));
    let two = r#"{"questions":[{"id":"q","prompt":"?","type":"single_choice","choices":["a","b"],"correct":[0,1]}]}"#;
    assert!(refused(two).contains("question `q`: a single choice has one right choice"), "{}", refused(two));
    let valueless = r#"{"questions":[{"id":"q","prompt":"?","type":"numeric"}]}"#;
    assert!(refused(valueless).contains("a numeric question needs a value"), "{}", refused(valueless));
}

#[test]
fn parses_quantities() {
    let quantity = |typed: &str| parse_quantity(typed).map(|q| (q.number, q.unit));
    assert_eq!(quantity("3,5 V"), Some((3.5, "V".into())));
    assert_eq!(quantity("−2,5mA"), Some((-2.5, "mA".into())));
    assert_eq!(quantity("12"), Some((12.0, String::new())));
    assert_eq!(quantity(",5"), None);
    assert_eq!(quantity("3."), None);
}
