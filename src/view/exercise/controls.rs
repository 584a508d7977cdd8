//! The form controls of each kind of question: radio buttons, check boxes, a text field with its unit,
//! items moved with buttons (keyboard operable, no dragging), a text area. Each edit hands the whole new
//! response to `edit`.

use std::cell::RefCell;
use std::rc::Rc;

use cartable_core::exercise::{shown_order, Kind, Response};
use web_sys::{HtmlElement, HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::i18n::Text;

/// The response a question starts with: nothing chosen or typed, ordering items in their shown order.
pub fn empty_response(kind: &Kind) -> Response {
    match kind {
        // No choice index is ever this large: nothing is checked.
        Kind::SingleChoice { .. } => Response::Choice(usize::MAX),
        Kind::MultipleChoice { .. } => Response::Choices(Vec::new()),
        Kind::Numeric { .. } => Response::Number(String::new()),
        Kind::ShortText { .. } => Response::Text(String::new()),
        Kind::Ordering { items } => Response::Order(shown_order(items)),
        Kind::FreeResponse {} => Response::Free(String::new()),
    }
}

/// A button to focus again once the page is drawn: moving an item moves its buttons in the document,
/// which takes the keyboard focus away from the one just pressed.
pub type Refocus = Rc<RefCell<Option<HtmlElement>>>;

/// What the controls of a question need besides its kind and response.
pub struct Needs<'a> {
    /// Receives each edited response.
    pub edit: &'a Callback<Response>,
    /// Where a pressed move button waits to be focused again.
    pub refocus: &'a Refocus,
    /// Start of element ids, unique in the page.
    pub prefix: &'a str,
    /// The interface strings.
    pub text: &'static Text,
}

/// The controls of `kind`, showing `response`.
pub fn controls(kind: &Kind, response: &Response, needs: &Needs) -> Html {
    let Needs { edit, refocus, prefix, text } = *needs;
    match (kind, response) {
        (Kind::SingleChoice { choices, .. }, Response::Choice(chosen)) => {
            let options = choices.iter().enumerate().map(|(index, choice)| {
                let onchange = edit.reform(move |_: Event| Response::Choice(index));
                html! {
                    <label class="choice">
                        <input type="radio" name={prefix.to_owned()} checked={*chosen == index} {onchange} />
                        { " " }{ choice }
                    </label>
                }
            });
            html! { <div class="choices">{ for options }</div> }
        }
        (Kind::MultipleChoice { choices, .. }, Response::Choices(ticked)) => {
            let options = choices.iter().enumerate().map(|(index, choice)| {
                let was = ticked.clone();
                let onchange = edit.reform(move |event: Event| {
                    let on = event.target_unchecked_into::<HtmlInputElement>().checked();
                    let mut ticked: Vec<usize> = was.iter().copied().filter(|&i| i != index).collect();
                    if on {
                        ticked.push(index);
                    }
                    Response::Choices(ticked)
                });
                html! {
                    <label class="choice">
                        <input type="checkbox" checked={ticked.contains(&index)} {onchange} />
                        { " " }{ choice }
                    </label>
                }
            });
            html! { <div class="choices">{ for options }</div> }
        }
        (Kind::Numeric { unit, .. }, Response::Number(typed)) => {
            let label = match unit {
                Some(unit) => format!("{} ({})", text.your_answer, text.in_unit.replace("{unit}", unit)),
                None => text.your_answer.to_owned(),
            };
            let oninput = edit.reform(|event: InputEvent| Response::Number(input_value(&event)));
            let id = format!("{prefix}-answer");
            html! {
                <p class="answer">
                    <label for={id.clone()}>{ label }</label>{ " " }
                    <input {id} type="text" inputmode="decimal" autocomplete="off" value={typed.clone()} {oninput} />
                    if let Some(unit) = unit { { " " }<span class="unit" aria-hidden="true">{ unit }</span> }
                </p>
            }
        }
        (Kind::ShortText { .. }, Response::Text(typed)) => {
            let oninput = edit.reform(|event: InputEvent| Response::Text(input_value(&event)));
            let id = format!("{prefix}-answer");
            html! {
                <p class="answer">
                    <label for={id.clone()}>{ text.your_answer }</label>{ " " }
                    <input {id} type="text" autocomplete="off" value={typed.clone()} {oninput} />
                </p>
            }
        }
        (Kind::Ordering { items }, Response::Order(order)) => ordering(items, order, edit, refocus, text),
        (Kind::FreeResponse {}, Response::Free(typed)) => {
            let oninput = edit.reform(|event: InputEvent| {
                Response::Free(event.target_unchecked_into::<HtmlTextAreaElement>().value())
            });
            let id = format!("{prefix}-answer");
            html! {
                <p class="answer">
                    <label for={id.clone()}>{ text.your_answer }</label>
                    <textarea {id} rows="4" value={typed.clone()} {oninput} />
                </p>
            }
        }
        // A kept response of another kind (the teacher changed the question): start again.
        (kind, _) => controls(kind, &empty_response(kind), needs),
    }
}

fn input_value(event: &InputEvent) -> String {
    event.target_unchecked_into::<HtmlInputElement>().value()
}

/// Items in the pupil's order, each with buttons to move it up or down. A button that cannot move its item
/// further is `aria-disabled`, not `disabled`: a disabled button would lose the focus of the pupil who
/// just moved the item to the end of the list.
fn ordering(items: &[String], order: &[usize], edit: &Callback<Response>, refocus: &Refocus, text: &Text) -> Html {
    let last = order.len().saturating_sub(1);
    let rows = order.iter().enumerate().filter_map(|(position, &item)| {
        let name = items.get(item)?;
        let swap = |with: usize| {
            let mut moved = order.to_vec();
            moved.swap(position, with);
            let refocus = refocus.clone();
            edit.reform(move |event: MouseEvent| {
                *refocus.borrow_mut() = Some(event.target_unchecked_into::<HtmlElement>());
                Response::Order(moved.clone())
            })
        };
        let up = (position > 0).then(|| swap(position - 1));
        let down = (position < last).then(|| swap(position + 1));
        Some(html! {
            <li key={item}>
                <span class="item">{ name }</span>
                <span class="moves">
                    <button type="button" aria-disabled={up.is_none().then_some("true")} onclick={up.unwrap_or_default()}
                        aria-label={format!("{} : {name}", text.move_up)}>{ "↑ " }{ text.move_up }</button>
                    <button type="button" aria-disabled={down.is_none().then_some("true")} onclick={down.unwrap_or_default()}
                        aria-label={format!("{} : {name}", text.move_down)}>{ "↓ " }{ text.move_down }</button>
                </span>
            </li>
        })
    });
    html! { <ol class="ordering">{ for rows }</ol> }
}
