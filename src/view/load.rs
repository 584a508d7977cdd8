//! A hook that runs an async load when its inputs change and keeps only the latest answer.

use std::future::Future;
use std::rc::Rc;

use yew::prelude::*;

use crate::course::LoadError;

/// Where an async load stands.
pub enum Load<T> {
    /// Still running.
    Loading,
    /// Failed, with the reason to show.
    Failed(LoadError),
    /// Done.
    Ready(T),
}

/// Runs `make(deps)` whenever `deps` change, and returns its latest state. An answer that arrives after
/// newer inputs were given is dropped, so a slow old load never overwrites a newer page.
#[hook]
pub fn use_load<T, D, F, Fut>(deps: D, make: F) -> Rc<Load<T>>
where
    T: 'static,
    D: PartialEq + Clone + 'static,
    F: FnOnce(D) -> Fut + 'static,
    Fut: Future<Output = Result<T, LoadError>> + 'static,
{
    let state = use_state(|| Rc::new(Load::Loading));
    let generation = use_mut_ref(|| 0u64);
    {
        let state = state.clone();
        use_effect_with(deps, move |deps| {
            *generation.borrow_mut() += 1;
            let mine = *generation.borrow();
            state.set(Rc::new(Load::Loading));
            let future = make(deps.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = future.await;
                if *generation.borrow() == mine {
                    state.set(Rc::new(match result {
                        Ok(value) => Load::Ready(value),
                        Err(error) => Load::Failed(error),
                    }));
                }
            });
        });
    }
    (*state).clone()
}
