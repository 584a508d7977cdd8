//! Media types of course files, decided by file extension. Shared by packing and by `cartable serve`.

/// The media type for `path`, from its extension (case-insensitive); `application/octet-stream` when
/// the extension is unknown, so that a browser never sniffs one file as another.
pub fn media_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "md" | "markdown" => "text/markdown; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "wav" => "audio/wav",
        "m4a" => "audio/mp4",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "ogv" => "video/ogg",
        "vtt" => "text/vtt; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// True for media types a lesson may show inline as a picture.
pub fn is_image(media_type: &str) -> bool {
    media_type.starts_with("image/")
}

/// True for media types a lesson plays: audio and video.
pub fn is_playable(media_type: &str) -> bool {
    media_type.starts_with("audio/") || media_type.starts_with("video/")
}

/// The policy of a course file opened on its own: a sandbox that runs no script and loads nothing, so
/// that an HTML or SVG attachment never runs as the app's own code in the app's origin.
pub const FILE_POLICY: &str = "sandbox; default-src 'none'";
/// The same for audio and video, which the browser's own player must still be allowed to play.
pub const MEDIA_POLICY: &str = "sandbox; default-src 'none'; media-src 'self'; style-src 'unsafe-inline'";

/// The headers every course file (or chunk) carries, wherever it is served from (the worker, the
/// origin): signed content is trusted for its bytes, never as script. Never sniffed; sandboxed; and a
/// download (`Content-Disposition: attachment`) unless it is a picture, audio or video a lesson shows.
pub fn file_headers(media_type: &str) -> Vec<(&'static str, &'static str)> {
    let policy = if is_playable(media_type) { MEDIA_POLICY } else { FILE_POLICY };
    let mut headers = vec![("x-content-type-options", "nosniff"), ("content-security-policy", policy)];
    if !(is_image(media_type) || is_playable(media_type)) {
        headers.push(("content-disposition", "attachment"));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_types_browsers_are_strict_about() {
        assert_eq!(media_type("pkg/cartable_bg.wasm"), "application/wasm");
        assert_eq!(media_type("pkg/cartable.js"), "text/javascript; charset=utf-8");
        assert_eq!(media_type("images/Circuit.SVG"), "image/svg+xml");
        assert_eq!(media_type("docs/fiche.pdf"), "application/pdf");
        assert_eq!(media_type("README"), "application/octet-stream");
        assert_eq!(media_type("archive.tar.unknown"), "application/octet-stream");
    }

    #[test]
    fn course_files_are_sandboxed_and_only_what_a_lesson_shows_is_not_a_download() {
        let header = |media_type: &str, name: &str| {
            file_headers(media_type).into_iter().find(|(n, _)| *n == name).map(|(_, value)| value)
        };
        for active in ["text/html; charset=utf-8", "image/svg+xml", "text/javascript; charset=utf-8", "application/pdf"]
        {
            assert_eq!(header(active, "content-security-policy"), Some(FILE_POLICY), "{active}");
            assert_eq!(header(active, "x-content-type-options"), Some("nosniff"), "{active}");
        }
        for download in ["text/html; charset=utf-8", "application/pdf", "application/octet-stream"] {
            assert_eq!(header(download, "content-disposition"), Some("attachment"), "{download}");
        }
        for shown in ["image/png", "image/svg+xml", "audio/mpeg", "video/webm"] {
            assert_eq!(header(shown, "content-disposition"), None, "{shown}");
        }
        assert_eq!(header("audio/ogg", "content-security-policy"), Some(MEDIA_POLICY));
    }
}
