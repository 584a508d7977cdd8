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
}
