//! Chunks the origin could not give, asked of the tab that leads this browser's swarm of the course
//! (WebRTC does not exist in a service worker; see `cartable_core::miss` for the messages). The asking
//! itself is `askLeader` in `www/sw.js`, as a dozen lines of JavaScript there weigh a tenth of their Rust
//! equivalent in the worker's bundle: it asks only while a tab holds the course's Web Lock, so with no tab
//! open, or none leading, the worker does not wait at all; otherwise it posts the miss on the course's
//! `BroadcastChannel` and waits up to 15 s for the answer. Whatever comes back is checked by the caller
//! like the origin's bytes: a tab is not trusted either.

use cartable_core::miss::{leader_name, Miss};
use cartable_core::Cid;
use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The tab leading the swarm of a course, as the worker reaches it.
pub struct Leader<'a> {
    /// `askLeader`: `(lock and channel name, miss) => Promise<Uint8Array | undefined>`.
    pub ask: &'a Function,
    /// The course.
    pub course_id: &'a str,
}

impl Leader<'_> {
    /// Chunk `cid` (`len` bytes) from the leading tab, unchecked; `None` when no tab leads, or the leader
    /// has none, or it did not answer in time.
    pub async fn chunk(&self, cid: Cid, len: u64) -> Option<Vec<u8>> {
        let (name, miss) = (leader_name(self.course_id), Miss { cid, len }.to_string());
        let asked = self.ask.call2(&JsValue::NULL, &name.into(), &miss.into()).ok()?;
        let chunk = JsFuture::from(Promise::resolve(&asked)).await.ok()?;
        chunk.is_instance_of::<Uint8Array>().then(|| Uint8Array::new(&chunk).to_vec())
    }
}
