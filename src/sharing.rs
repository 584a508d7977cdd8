//! Whether this page shares the course with its classmates: the school's policy in the signed manifest,
//! the pupil's own switch (kept in `localStorage`) and the connection (a metered one takes from
//! classmates but does not upload). Decides nothing about trust: a classmate's chunk is verified like any
//! other.

use cartable_core::manifest::PeerPolicy;

use crate::swarm::Ice;

/// Where the pupil's switch is kept: `"off"` when the pupil turned sharing off, absent otherwise.
const PUPIL_SWITCH: &str = "cartable.peers";

/// Whether this page joins the classmates' swarm, and if not, who decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// Neither the page nor the manifest names a tracker: there is no swarm to join.
    NoTracker,
    /// The school turned sharing off in the signed manifest; the pupil cannot turn it on.
    OffBySchool,
    /// The pupil turned sharing off.
    OffByPupil,
    /// This page joins the swarm.
    On,
}

impl Sharing {
    /// The decision for a page that knows `tracker` (if any), under the school's `policy` and the
    /// pupil's switch (`pupil_shares`). The school's word comes first, then the pupil's.
    pub fn decide(tracker: Option<&str>, policy: &PeerPolicy, pupil_shares: bool) -> Sharing {
        match (tracker, policy.sharing, pupil_shares) {
            (None, _, _) => Sharing::NoTracker,
            (Some(_), false, _) => Sharing::OffBySchool,
            (Some(_), true, false) => Sharing::OffByPupil,
            (Some(_), true, true) => Sharing::On,
        }
    }
}

/// The tracker to use: the page's own choice (its config block or `mount` option) wins, else the first
/// the manifest names.
pub fn tracker(page: Option<&str>, manifest_trackers: &[String]) -> Option<String> {
    page.or(manifest_trackers.first().map(String::as_str)).map(str::to_owned)
}

/// The WebRTC settings the school's policy asks for.
pub fn ice(policy: &PeerPolicy) -> Ice {
    Ice { servers: policy.ice.clone(), relay_only: policy.relay_only }
}

/// Whether the pupil left sharing with classmates on (`localStorage["cartable.peers"]` is not `off`).
pub fn pupil_shares() -> bool {
    local_storage().and_then(|storage| storage.get_item(PUPIL_SWITCH).ok().flatten()).as_deref() != Some("off")
}

/// Remembers the pupil's switch for the next pages this browser opens. Returns false when the browser
/// refuses storage, so that the interface does not claim a choice it could not keep.
pub fn set_pupil_shares(on: bool) -> bool {
    let Some(storage) = local_storage() else { return false };
    match on {
        true => storage.remove_item(PUPIL_SWITCH).is_ok(),
        false => storage.set_item(PUPIL_SWITCH, "off").is_ok(),
    }
}

/// Whether the connection is metered (data saver on, or cellular): the page then takes from classmates
/// but does not upload to them.
pub fn metered() -> bool {
    let Some(window) = web_sys::window() else { return false };
    let Ok(connection) = js_sys::Reflect::get(&window.navigator(), &"connection".into()) else { return false };
    let field = |name: &str| js_sys::Reflect::get(&connection, &name.into()).ok();
    field("saveData").is_some_and(|save| save.is_truthy())
        || field("type").and_then(|kind| kind.as_string()).as_deref() == Some("cellular")
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}
