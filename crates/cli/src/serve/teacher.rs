//! The teacher view of `cartable serve`: `/teacher` lists what arrived, per pupil and exercise, a
//! page of [`PAGE_ROWS`] at a time (`/teacher/page/<n>`), with the hand-in files to download and
//! `/teacher/submissions.csv` (`teacher/export.rs`). Behind the token given at start-up, sent as
//! `Authorization: Bearer <token>` or traded at the login form for a session cookie (`teacher/door.rs`).
//! Everything shown is escaped: a pupil's name or text is never markup. SQLite is only ever called off
//! the request loop, so a teacher's export never holds up a pupil's page.

mod door;
mod export;

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use cartable_core::date::Date;

use crate::clock::Stopwatch;
use crate::serve::register::{self, Register, Row};
use door::{Door, Verdict};

/// Where the teacher view lives.
pub const PATH: &str = "/teacher";
/// Submissions on one page of the teacher view: a page stays quick to build and to read whatever the
/// register holds; the CSV has them all.
pub const PAGE_ROWS: u64 = 100;

/// The teacher view: its door and the register it shows.
pub struct Teacher {
    door: Door,
    register: Arc<Register>,
    started: Stopwatch,
}

impl Teacher {
    /// The view of `register`, opened by `token`.
    pub fn new(register: Arc<Register>, token: String) -> Teacher {
        Teacher { door: Door::new(token), register, started: Stopwatch::start() }
    }

    /// The answer to a teacher request (`path` under [`PATH`]) from `address` (unknown: no lockout);
    /// `body` is the request's (the login form). Every answer forbids framing, sniffing and storing.
    pub async fn answer(
        &self,
        address: Option<IpAddr>,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Response<Body> {
        let rest = path.strip_prefix(PATH).unwrap_or(path);
        // Milliseconds on a monotonic clock: sessions and lockouts survive the wall clock being set.
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if rest == "/login" && *method == Method::POST {
            return guarded(self.login(address, headers, body, now));
        }
        guarded(match self.door.check(address, headers, now) {
            Verdict::Locked(seconds) => locked(seconds),
            Verdict::Shut => page(StatusCode::UNAUTHORIZED, LOGIN),
            Verdict::Open => self.behind_the_door(rest).await,
        })
    }

    async fn behind_the_door(&self, rest: &str) -> Response<Body> {
        if rest == "/submissions.csv" {
            let mut response = Response::new(export::stream(Arc::clone(&self.register)));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"submissions.csv\""),
            );
            return response;
        }
        if let Some(number) = page_number(rest) {
            return self.listing(number).await;
        }
        match rest.strip_prefix("/files/").and_then(|file| file.split_once('/')) {
            Some((id, position)) => self.download(id, position).await,
            None => not_found(),
        }
    }

    /// The login form's answer: a session cookie and back to the list, or the form again.
    fn login(&self, address: Option<IpAddr>, headers: &HeaderMap, body: &[u8], now: u64) -> Response<Body> {
        let mut random = [0u8; 16];
        if let Err(error) = getrandom::fill(&mut random) {
            return text(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot draw a session id: {error}\n"));
        }
        let session = match self.door.login(address, body, now, random) {
            Ok(session) => session,
            Err(Verdict::Locked(seconds)) => return locked(seconds),
            Err(_) => return page(StatusCode::UNAUTHORIZED, LOGIN),
        };
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SEE_OTHER;
        let headers_out = response.headers_mut();
        headers_out.insert(header::LOCATION, HeaderValue::from_static(PATH));
        if let Ok(cookie) = HeaderValue::from_str(&door::cookie(&session, door::over_https(headers))) {
            headers_out.insert(header::SET_COOKIE, cookie);
        }
        response
    }

    /// Page `number` (from 1) of the list; past the last page, a 404.
    async fn listing(&self, number: u64) -> Response<Body> {
        let skip = number.saturating_sub(1).saturating_mul(PAGE_ROWS);
        let read = register::off_loop(&self.register, move |register| {
            let total = register.count()?;
            Ok((total, register.page(skip, PAGE_ROWS)?))
        });
        match read.await {
            Ok((total, _)) if number > pages(total) => not_found(),
            Ok((total, rows)) => page(StatusCode::OK, &listing(&rows, number, total)),
            Err(error) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot read the submissions: {error:#}\n")),
        }
    }

    async fn download(&self, id: &str, position: &str) -> Response<Body> {
        let (Ok(id), Ok(position)) = (id.parse::<i64>(), position.parse::<i64>()) else { return not_found() };
        let Ok(Some((info, bytes))) = register::off_loop(&self.register, move |r| r.file(id, position)).await else {
            return not_found();
        };
        let mut response = Response::new(Body::from(bytes));
        let headers = response.headers_mut();
        // Whatever the pupil's browser called it, the file is downloaded, never rendered on this origin.
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
        let safe: String =
            info.name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        response
    }
}

/// The page number a path under [`PATH`] asks for: 1 for the view itself, `n` for `/page/<n>`.
fn page_number(rest: &str) -> Option<u64> {
    match rest {
        "" | "/" => Some(1),
        _ => rest.strip_prefix("/page/")?.parse().ok().filter(|number| *number >= 1),
    }
}

/// How many pages `total` submissions fill: at least one, empty or not.
fn pages(total: u64) -> u64 {
    total.div_ceil(PAGE_ROWS).max(1)
}

/// The links to the pages before and after `number` of `last`, as a paragraph (none on a lone page).
fn page_links(number: u64, last: u64) -> String {
    let mut links = String::new();
    if number > 1 {
        let _ = write!(links, "<a href=\"{PATH}/page/{}\" rel=\"prev\">← Page précédente</a> ", number - 1);
    }
    if number < last {
        let _ = write!(links, "<a href=\"{PATH}/page/{}\" rel=\"next\">Page suivante →</a>", number + 1);
    }
    match links.is_empty() {
        true => links,
        false => format!("<p>{}</p>", links.trim_end()),
    }
}

const LOGIN: &str = "<h1>Cartable — espace enseignant</h1>
<form method=\"post\" action=\"/teacher/login\"><label>Jeton enseignant <input name=\"token\" type=\"password\" autocomplete=\"off\"></label>
<button>Entrer</button></form><p>Le jeton est affiché au démarrage de <code>cartable serve</code>.</p>";

/// Page `number` of the list, holding `rows`, of `total` submissions.
fn listing(rows: &[Row], number: u64, total: u64) -> String {
    let last = pages(total);
    let mut html = String::from(
        "<h1>Travaux reçus</h1><p><a href=\"/teacher/submissions.csv\">Exporter en CSV</a> (tous les travaux)</p>",
    );
    let _ = write!(html, "<p>Page {number} sur {last} · {total} travaux reçus</p>");
    let links = page_links(number, last);
    html.push_str(&links);
    html.push_str("<table><thead><tr><th>Élève</th><th>Exercice ou devoir</th><th>Réponse ou texte</th><th>Fichiers</th><th>Enregistré</th><th>Reçu</th><th>N°</th></tr></thead><tbody>");
    for row in rows {
        let files: String = row
            .files
            .iter()
            .map(|f| {
                format!(
                    "<a href=\"/teacher/files/{}/{}\" download>{}</a> ({} o)<br>",
                    row.id,
                    f.position,
                    escape(&f.name),
                    f.size
                )
            })
            .collect();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row.student),
            escape(&row.subject),
            escape(&row.text),
            files,
            time(row.created_at),
            time(row.received_at),
            row.id
        );
    }
    html.push_str("</tbody></table>");
    // The same links again below the rows, as the one navigation landmark of the page.
    if !links.is_empty() {
        let _ = write!(html, "<nav aria-label=\"Pages\">{links}</nav>");
    }
    html
}

/// `ms` since the epoch as `2026-11-29 08:05:12 UTC`.
fn time(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let (year, month, day) = Date::from_unix(seconds).parts();
    let of_day = seconds.rem_euclid(86_400);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", of_day / 3600, of_day / 60 % 60, of_day % 60)
}

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, body: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Cartable — enseignant</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:.3em;vertical-align:top}}table{{border-collapse:collapse}}</style>\
         </head><body>{body}</body></html>"
    );
    let mut response = text(status, html);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found\n".into())
}

/// The answer to an address locked out for wrong tokens: come back in `seconds`.
fn locked(seconds: u64) -> Response<Body> {
    let mut response = text(StatusCode::TOO_MANY_REQUESTS, "too many wrong tokens: try again later\n".into());
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// `response` as every teacher answer goes out: never framed by another site (clickjacking the login
/// form), never sniffed into another type, never stored by a shared computer's browser or a proxy.
fn guarded(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    let policy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_numbered_from_one() {
        assert_eq!(["", "/", "/page/1", "/page/7"].map(page_number), [Some(1), Some(1), Some(1), Some(7)]);
        assert_eq!(["/page/0", "/page/", "/page/x", "/page/-1", "/pages/2"].map(page_number), [None; 5]);
        assert_eq!([0, 1, 100, 101, 100_000].map(pages), [1, 1, 1, 2, 1000]);
    }

    #[test]
    fn page_links_lead_to_the_neighbours() {
        assert_eq!(page_links(1, 1), "");
        let first = page_links(1, 3);
        assert!(first.contains("href=\"/teacher/page/2\" rel=\"next\"") && !first.contains("prev"), "{first}");
        let middle = page_links(2, 3);
        assert!(middle.contains("/teacher/page/1\" rel=\"prev\"") && middle.contains("/teacher/page/3"), "{middle}");
        assert!(!page_links(3, 3).contains("next"));
    }

    #[test]
    fn answers_forbid_framing_and_sniffing() {
        let response = guarded(not_found());
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(header(header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"));
        assert_eq!(header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(header(header::CACHE_CONTROL), "no-store");
    }

    #[test]
    fn names_are_escaped_and_times_readable() {
        assert_eq!(escape("<img src=x onerror='a'>&\""), "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;");
        assert_eq!(time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(time(1_764_384_312_000), "2025-11-29 02:45:12 UTC");
    }
}
