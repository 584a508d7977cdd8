//! The teacher view of `cartable serve`: `/teacher` lists what arrived, per pupil and exercise, with the
//! hand-in files to download and `/teacher/submissions.csv`. Behind the token given at start-up, sent as
//! `Authorization: Bearer <token>` or as the HttpOnly cookie the login form sets. Everything shown is
//! escaped: a pupil's name or text is never markup.

use std::fmt::Write as _;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use cartable_core::date::Date;

use crate::register::{Register, Row};

/// Where the teacher view lives.
pub const PATH: &str = "/teacher";
const COOKIE: &str = "cartable_teacher";

/// Whether `headers` carry `token`, as a bearer token or the login cookie; compared in constant time.
pub fn authorised(headers: &HeaderMap, token: &str) -> bool {
    let bearer = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|value| value.to_str().ok()?.strip_prefix("Bearer ").map(str::trim))
        .any(|given| same(given, token));
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .any(|given| same(given, token));
    bearer || cookie
}

/// Compares two secrets in time that depends on their lengths only, not on where they differ.
pub fn same(given: &str, token: &str) -> bool {
    let (given, token) = (given.as_bytes(), token.as_bytes());
    let differences = given.iter().zip(token).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    differences == 0 && given.len() == token.len() && !token.is_empty()
}

/// The answer to a teacher request (`path` under [`PATH`]); `body` is the request's (the login form).
pub fn answer(
    register: &Register,
    token: &str,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response<Body> {
    let rest = path.strip_prefix(PATH).unwrap_or(path);
    if rest == "/login" && *method == Method::POST {
        return login(token, body);
    }
    if !authorised(headers, token) {
        return page(StatusCode::UNAUTHORIZED, LOGIN);
    }
    let rows = match register.rows() {
        Ok(rows) => rows,
        Err(error) => {
            return text(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot read the submissions: {error:#}\n"))
        }
    };
    match rest {
        "" | "/" => page(StatusCode::OK, &listing(&rows)),
        "/submissions.csv" => {
            let mut response = text(StatusCode::OK, csv(&rows));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"submissions.csv\""),
            );
            response
        }
        _ => match rest.strip_prefix("/files/").and_then(|file| file.split_once('/')) {
            Some((id, position)) => download(register, id, position),
            None => text(StatusCode::NOT_FOUND, "not found\n".into()),
        },
    }
}

fn login(token: &str, body: &[u8]) -> Response<Body> {
    let form = String::from_utf8_lossy(body);
    let given = form.split('&').find_map(|pair| pair.strip_prefix("token=")).map(percent_decode).unwrap_or_default();
    if !same(&given, token) {
        return page(StatusCode::UNAUTHORIZED, LOGIN);
    }
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    let cookie = format!("{COOKIE}={token}; Path={PATH}; HttpOnly; SameSite=Strict");
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, HeaderValue::from_static(PATH));
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    response
}

fn download(register: &Register, id: &str, position: &str) -> Response<Body> {
    let (Ok(id), Ok(position)) = (id.parse::<i64>(), position.parse::<i64>()) else {
        return text(StatusCode::NOT_FOUND, "not found\n".into());
    };
    let Ok(Some((info, bytes))) = register.file(id, position) else {
        return text(StatusCode::NOT_FOUND, "not found\n".into());
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

const LOGIN: &str = "<h1>Cartable — espace enseignant</h1>
<form method=\"post\" action=\"/teacher/login\"><label>Jeton enseignant <input name=\"token\" type=\"password\" autocomplete=\"off\"></label>
<button>Entrer</button></form><p>Le jeton est affiché au démarrage de <code>cartable serve</code>.</p>";

fn listing(rows: &[Row]) -> String {
    let mut html =
        String::from("<h1>Travaux reçus</h1><p><a href=\"/teacher/submissions.csv\">Exporter en CSV</a></p>");
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
    html
}

/// The rows as RFC 4180 CSV (CRLF line ends, fields quoted), cells that a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) prefixed with `'`.
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from("id,key,course_id,student,kind,subject,text,score,files,created_at,received_at\r\n");
    for row in rows {
        let files = row.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join("; ");
        let score = row.score.map(|s| s.to_string()).unwrap_or_default();
        let cells = [
            row.id.to_string(),
            row.key.clone(),
            row.course_id.clone(),
            row.student.clone(),
            row.kind.clone(),
            row.subject.clone(),
            row.text.clone(),
            score,
            files,
            time(row.created_at),
            time(row.received_at),
        ];
        let line: Vec<String> = cells.iter().map(|cell| csv_cell(cell)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One CSV field: quoted, inner quotes doubled, a would-be formula defused.
pub fn csv_cell(cell: &str) -> String {
    let defused = match cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{cell}"),
        false => cell.to_owned(),
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
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

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn page(status: StatusCode, body: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Cartable — enseignant</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:.3em;vertical-align:top}}table{{border-collapse:collapse}}</style>\
         </head><body>{body}</body></html>"
    );
    let mut response = text(status, html);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
    );
    response
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same("s3cret", "s3cret"));
        for wrong in ["", "s3cre", "s3cret!", "S3cret", "x3cret"] {
            assert!(!same(wrong, "s3cret"), "{wrong}");
        }
        assert!(!same("", ""), "an empty token opens nothing");
        let mut headers = HeaderMap::new();
        assert!(!authorised(&headers, "s3cret"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
        assert!(authorised(&headers, "s3cret"));
        let mut cookies = HeaderMap::new();
        cookies.insert(header::COOKIE, HeaderValue::from_static("a=b; cartable_teacher=s3cret"));
        assert!(authorised(&cookies, "s3cret"));
        assert!(!authorised(&cookies, "other"));
    }

    #[track_caller]
    fn check_cell(cell: &str, expected: &str) {
        assert_eq!(csv_cell(cell), expected);
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        check_cell("Léa", "\"Léa\"");
        check_cell("dit \"oui\", puis non", "\"dit \"\"oui\"\", puis non\"");
        check_cell("ligne 1\r\nligne 2", "\"ligne 1\r\nligne 2\"");
        check_cell("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"");
        check_cell("+33 6", "\"'+33 6\"");
        check_cell("-1", "\"'-1\"");
        check_cell("@SUM(A1)", "\"'@SUM(A1)\"");
    }

    #[test]
    fn names_are_escaped_and_times_readable() {
        assert_eq!(escape("<img src=x onerror='a'>&\""), "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;");
        assert_eq!(time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(time(1_764_384_312_000), "2025-11-29 02:45:12 UTC");
        assert_eq!(percent_decode("a%2Bb+c%zz"), "a+b c%zz");
    }
}
