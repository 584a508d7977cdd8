//! WebRTC plumbing for the swarm: a peer connection with one data channel, set up by a whole offer and a
//! whole answer (the WebTorrent tracker protocol does not trickle ICE, so each side waits for its
//! candidates before sending its description). Knows nothing of chunks or trust.

use cartable_core::manifest::IceServer;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    RtcConfiguration, RtcDataChannel, RtcDataChannelEvent, RtcDataChannelType, RtcIceGatheringState, RtcIceServer,
    RtcPeerConnection, RtcSdpType, RtcSessionDescriptionInit,
};

/// How long a side waits for its ICE candidates before sending what it has.
const GATHERING_MS: i32 = 3_000;

/// ICE settings, from the manifest's peer policy: STUN and TURN servers, and whether to use nothing but
/// the TURN relays (relay-only mode: classmates then never see each other's address).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ice {
    /// STUN and TURN servers, each with its URLs and, for TURN, its user name and password.
    pub servers: Vec<IceServer>,
    /// Use relays only.
    pub relay_only: bool,
}

/// A new peer connection under `ice`.
pub fn connection(ice: &Ice) -> Result<RtcPeerConnection, JsValue> {
    let config = RtcConfiguration::new();
    if !ice.servers.is_empty() {
        let servers: js_sys::Array = ice.servers.iter().map(ice_server).collect();
        config.set_ice_servers(&servers);
    }
    if ice.relay_only {
        config.set_ice_transport_policy(web_sys::RtcIceTransportPolicy::Relay);
    }
    RtcPeerConnection::new_with_configuration(&config)
}

fn ice_server(server: &IceServer) -> RtcIceServer {
    let entry = RtcIceServer::new();
    let urls: js_sys::Array = server.urls.iter().map(|url| JsValue::from(url.as_str())).collect();
    entry.set_urls(&urls);
    if let Some(username) = &server.username {
        entry.set_username(username);
    }
    if let Some(credential) = &server.credential {
        entry.set_credential(credential);
    }
    entry
}

/// The offering side: a connection, its data channel, and the offer's SDP with its candidates.
pub async fn offer(ice: &Ice) -> Result<(RtcPeerConnection, RtcDataChannel, String), JsValue> {
    let connection = connection(ice)?;
    let channel = connection.create_data_channel("cartable");
    channel.set_binary_type(RtcDataChannelType::Arraybuffer);
    let offer = JsFuture::from(connection.create_offer()).await?;
    JsFuture::from(connection.set_local_description(offer.unchecked_ref())).await?;
    let sdp = gathered(&connection).await?;
    Ok((connection, channel, sdp))
}

/// The answering side for `offer_sdp`: a connection and the answer's SDP. Its data channel arrives by
/// [`incoming_channel`].
pub async fn answer(ice: &Ice, offer_sdp: &str) -> Result<(RtcPeerConnection, String), JsValue> {
    let connection = connection(ice)?;
    let offer = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    offer.set_sdp(offer_sdp);
    JsFuture::from(connection.set_remote_description(&offer)).await?;
    let answer = JsFuture::from(connection.create_answer()).await?;
    JsFuture::from(connection.set_local_description(answer.unchecked_ref())).await?;
    let sdp = gathered(&connection).await?;
    Ok((connection, sdp))
}

/// Completes the offering side with the peer's answer.
pub async fn accept(connection: &RtcPeerConnection, answer_sdp: &str) -> Result<(), JsValue> {
    let answer = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
    answer.set_sdp(answer_sdp);
    JsFuture::from(connection.set_remote_description(&answer)).await.map(drop)
}

/// Calls `on_channel` with the data channel the offering side opens.
pub fn incoming_channel(connection: &RtcPeerConnection, on_channel: impl FnOnce(RtcDataChannel) + 'static) {
    let on_channel = std::cell::Cell::new(Some(on_channel));
    let handler = Closure::<dyn FnMut(RtcDataChannelEvent)>::new(move |event: RtcDataChannelEvent| {
        if let Some(on_channel) = on_channel.take() {
            let channel = event.channel();
            channel.set_binary_type(RtcDataChannelType::Arraybuffer);
            on_channel(channel);
        }
    });
    connection.set_ondatachannel(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
}

/// The local description's SDP once ICE gathering is complete, or after [`GATHERING_MS`].
async fn gathered(connection: &RtcPeerConnection) -> Result<String, JsValue> {
    if connection.ice_gathering_state() != RtcIceGatheringState::Complete {
        let done = js_sys::Promise::new(&mut |resolve, _| {
            let watched = connection.clone();
            let on_change = resolve.clone();
            let listener = Closure::<dyn FnMut()>::new(move || {
                if watched.ice_gathering_state() == RtcIceGatheringState::Complete {
                    let _ = on_change.call0(&JsValue::NULL);
                }
            });
            connection.set_onicegatheringstatechange(Some(listener.as_ref().unchecked_ref()));
            listener.forget();
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, GATHERING_MS);
            }
        });
        JsFuture::from(done).await?;
        connection.set_onicegatheringstatechange(None);
    }
    let description = connection.local_description().ok_or_else(|| JsValue::from("no local description"))?;
    Ok(description.sdp())
}
