//! What the pupil is told about the sources: a banner while the school's origin is saturated or down
//! (naming what really stands in: a mirror, classmates, or nothing yet), and a panel of where the bytes
//! came from, with the pupil's switch for sharing with classmates. Redrawn whenever an attempt ends and,
//! while classmates are connected, every second (what this page sends them changes without a fetch), so
//! it never claims more or less than the fetcher and the swarm have seen. Both are drawn through the
//! panels' part of the app (`crate::parts::Panels`); the redraw hook is the first bundle's.

use std::rc::Rc;

use cartable_core::fetch::{Breaker, OriginState, SourceKind};
use yew::prelude::*;

use crate::i18n::{bytes, Lang};
use crate::sharing::{self, Sharing};
use crate::swarm::SwarmStats;
use crate::view::Ctx;

/// Redraws the calling component whenever the course's fetcher finishes an attempt, and every second
/// while the swarm's figures change.
#[hook]
pub fn use_sources_redraw(ctx: &Ctx) {
    let redraw = use_force_update();
    use_effect_with(ctx.clone(), move |ctx| {
        let fetcher = ctx.course.fetcher.clone();
        let on_change = redraw.clone();
        fetcher.on_change(Some(Rc::new(move || on_change.force_update())));
        let course = ctx.course.clone();
        let mut seen = None;
        let tick = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            let now = course.swarm().map(|swarm| swarm.stats());
            if now != seen {
                seen = now;
                redraw.force_update();
            }
        });
        let interval = web_sys::window().and_then(|window| {
            use wasm_bindgen::JsCast;
            window.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 1_000).ok()
        });
        move || {
            fetcher.on_change(None);
            if let (Some(window), Some(interval)) = (web_sys::window(), interval) {
                window.clear_interval_with_handle(interval);
            }
            drop(tick);
        }
    });
}

/// The origin's trouble, if any, as the pupil should be told: what the fetcher sees now when it sees
/// trouble, or once the origin has sent chunks again; until then, how the origin answered when the course
/// was opened.
fn origin_trouble(ctx: &Ctx) -> Option<OriginState> {
    let course = &ctx.course;
    let sources = course.fetcher.sources();
    let served = sources.iter().any(|(source, report)| source.kind == SourceKind::Origin && report.bytes > 0);
    let state = match course.fetcher.origin_state() {
        OriginState::Healthy if !served => course.origin_at_open,
        live => live,
    };
    (state != OriginState::Healthy).then_some(state)
}

/// The banner while the origin is saturated or down, naming what stands in for it: the mirrors and the
/// classmates that did send bytes, or, while files are awaited, that they come once it answers. Nothing
/// when it is well, or when nothing came from elsewhere and nothing is awaited (the course is saved).
pub fn origin_banner(ctx: &Ctx) -> Html {
    let Some(state) = origin_trouble(ctx) else { return html! {} };
    let text = ctx.lang.text();
    let course = &ctx.course;
    let sources = course.fetcher.sources();
    let mirror = course.manifest_mirror.is_some()
        || sources.iter().any(|(source, report)| source.kind == SourceKind::Mirror && report.bytes > 0);
    let classmates = course.swarm().is_some_and(|swarm| swarm.stats().bytes_in > 0);
    let down = state == OriginState::Down;
    let message = match (mirror, classmates) {
        (true, true) if down => text.origin_down_both,
        (true, true) => text.origin_saturated_both,
        (true, false) if down => text.origin_down_mirror,
        (true, false) => text.origin_saturated_mirror,
        (false, true) if down => text.origin_down_peers,
        (false, true) => text.origin_saturated_peers,
        // Down with nothing standing in: the offline banner or the error panel says what there is to say.
        (false, false) if down => return html! {},
        (false, false) if course.fetcher.waiting() => text.origin_saturated_wait,
        (false, false) => return html! {},
    };
    html! { <p class="origin-banner" role="status">{ message }</p> }
}

/// Where the bytes of this visit came from, source by source, and whether classmates share the course;
/// nothing before any was fetched unless there are classmates to speak of.
pub fn sources_panel(ctx: &Ctx) -> Html {
    let sources = ctx.course.fetcher.sources();
    let sharing = ctx.course.sharing;
    if sources.iter().all(|(_, report)| report.requests == 0)
        && ctx.course.swarm().is_none()
        && sharing == Sharing::NoTracker
    {
        return html! {};
    }
    let text = ctx.lang.text();
    let swarm = ctx.course.swarm().map(|swarm| swarm.stats());
    let rows = sources.iter().map(|(source, report)| {
        let name = match source.kind {
            SourceKind::Origin => text.source_origin.to_owned(),
            SourceKind::Mirror => format!("{} {}", text.source_mirror, source.label()),
            SourceKind::Peer => text.source_peers.to_owned(),
        };
        if let (SourceKind::Peer, Some(swarm)) = (source.kind, swarm) {
            return classmates_row(ctx, &name, swarm);
        }
        let line = text
            .source_line
            .replace("{bytes}", &bytes(report.bytes, ctx.lang))
            .replace("{requests}", &report.requests.to_string());
        let state = match (report.banned, report.breaker) {
            (true, _) => Some(text.source_banned),
            (false, Breaker::Open) => Some(text.source_resting),
            _ => None,
        };
        html! {
            <li>
                <strong>{ name }</strong>{ " : " }{ line }
                if let Some(state) = state { { " · " }<em>{ state }</em> }
            </li>
        }
    });
    let privacy = match ctx.course.manifest.peers.relay_only {
        true => text.peers_privacy_relayed,
        false => text.peers_privacy,
    };
    let privacy = swarm.map(|_| html! { <p class="privacy">{ privacy }</p> });
    let switch = matches!(sharing, Sharing::On | Sharing::OffByPupil)
        .then(|| html! { <PeersSwitch lang={ctx.lang} running={sharing == Sharing::On} /> });
    html! {
        <details class="sources">
            <summary>{ text.sources_title }</summary>
            <ul>{ for rows }{ sharing_off_row(ctx) }</ul>
            { for privacy }
            { for switch }
        </details>
    }
}

/// The classmates' row when this page does not share: who turned sharing off. Nothing otherwise.
fn sharing_off_row(ctx: &Ctx) -> Html {
    let text = ctx.lang.text();
    let why = match ctx.course.sharing {
        Sharing::OffBySchool => text.peers_off_school,
        Sharing::OffByPupil => text.peers_off_pupil,
        Sharing::NoTracker | Sharing::On => return html! {},
    };
    html! { <li class="peers-off"><strong>{ text.source_peers }</strong>{ " : " }{ why }</li> }
}

/// Properties of [`PeersSwitch`].
#[derive(Properties, PartialEq)]
pub struct PeersSwitchProps {
    /// The interface language.
    pub lang: Lang,
    /// Whether this page shares with classmates now (the switch's state when the page opened).
    pub running: bool,
}

/// The pupil's switch for sharing with classmates, kept in this browser. It takes effect the next time
/// the page opens, which the switch says once it differs from what this page does.
#[function_component]
pub fn PeersSwitch(props: &PeersSwitchProps) -> Html {
    let checked = use_state(sharing::pupil_shares);
    let text = props.lang.text();
    let onchange = {
        let checked = checked.clone();
        Callback::from(move |event: Event| {
            let input = event.target_unchecked_into::<web_sys::HtmlInputElement>();
            let on = input.checked();
            match sharing::set_pupil_shares(on) {
                true => checked.set(on),
                // The browser refuses storage: the choice could not be kept, so the box does not show it.
                false => input.set_checked(!on),
            }
        })
    };
    html! {
        <p class="peers-switch">
            <label>
                <input type="checkbox" checked={*checked} {onchange} />
                { " " }{ text.peers_switch }
            </label>
            if *checked != props.running { { " " }<em role="status">{ text.peers_switch_later }</em> }
        </p>
    }
}

/// The classmates' row: what they sent and were sent, how many are connected, those set aside and why,
/// and whether this browser's own copy turned out damaged.
fn classmates_row(ctx: &Ctx, name: &str, swarm: SwarmStats) -> Html {
    let text = ctx.lang.text();
    let line = text
        .peers_line
        .replace("{bytes}", &bytes(swarm.bytes_in, ctx.lang))
        .replace("{sent}", &bytes(swarm.bytes_out, ctx.lang))
        .replace("{peers}", &swarm.peers.to_string());
    let count = |template: &str, count: usize| (count > 0).then(|| template.replace("{count}", &count.to_string()));
    let notes = [
        count(text.peers_banned_corrupt, swarm.banned_corrupt),
        count(text.peers_banned_protocol, swarm.banned_protocol),
    ];
    let damaged = count(text.copy_damaged, swarm.damaged);
    html! {
        <li>
            <strong>{ name }</strong>{ " : " }{ line }
            { for notes.into_iter().flatten().map(|note| html! { <>{ " · " }<em>{ note }</em></> }) }
            if let Some(damaged) = damaged { <p class="copy-damaged" role="status">{ damaged }</p> }
        </li>
    }
}
