//! The service worker's misses, filled from classmates. WebRTC does not exist in a service worker, so the
//! worker posts each chunk it could get neither from storage nor from the origin on the course's
//! `BroadcastChannel` (`cartable_core::miss`); the tab that leads the swarm listens there and answers with
//! the chunk from a classmate, verified like every chunk a classmate sends, or with nothing after a while.
//! The worker checks the bytes again before it stores or serves them.

use cartable_core::miss::{leader_name, Miss};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent};

use super::Swarm;

/// How long a miss waits for a classmate to hold the chunk; the worker waits 15 s in all (`www/sw.js`).
const PATIENCE_MS: i32 = 10_000;

/// Answers the worker's misses for the course of `swarm`, for as long as the page lives.
pub(super) fn answer(swarm: &Swarm) {
    let Ok(channel) = BroadcastChannel::new(&leader_name(&swarm.0.config.course_id)) else { return };
    let (swarm, to_worker) = (swarm.clone(), channel.clone());
    let on_miss = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        // A swarm the page left (it opened a newer version) lets the new one answer.
        let Some(text) = event.data().as_string().filter(|_| !swarm.0.left.get()) else { return };
        let Some(miss) = Miss::parse(&text) else { return };
        let (swarm, channel) = (swarm.clone(), to_worker.clone());
        wasm_bindgen_futures::spawn_local(async move {
            // Classmates hold chunks of this course only: anything else is answered "none" at once.
            let chunk = match swarm.0.config.chunks.contains(&miss.cid) {
                true => swarm.get_within(miss.cid, miss.len, PATIENCE_MS).await,
                false => None,
            };
            let _ = channel.post_message(&reply(&text, chunk.as_deref()));
            if let Some(bytes) = chunk {
                // This page can now give it to classmates too.
                if swarm.0.store.put_chunks(vec![(miss.cid, bytes)]).await.is_ok() {
                    swarm.have(&miss.cid);
                }
            }
        });
    });
    channel.set_onmessage(Some(on_miss.as_ref().unchecked_ref()));
    on_miss.forget();
}

/// `{ miss, chunk }`, or `{ miss }` when no classmate gave the chunk.
fn reply(miss: &str, chunk: Option<&[u8]>) -> Object {
    let reply = Object::new();
    let _ = Reflect::set(&reply, &"miss".into(), &miss.into());
    if let Some(chunk) = chunk {
        let _ = Reflect::set(&reply, &"chunk".into(), &Uint8Array::from(chunk));
    }
    reply
}
