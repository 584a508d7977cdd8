//! Shared helpers for the `cartable` integration tests: a fixture course, running the binary, and a
//! few lines of raw HTTP so that no HTTP client crate is needed.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::Duration;

/// The `cartable` binary under test.
pub fn cartable() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cartable"))
}

/// Runs `cartable args...` in `dir` and returns its output.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    cartable().current_dir(dir).args(args).output().expect("the cartable binary runs")
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts success and returns stdout.
#[track_caller]
pub fn ok(output: &Output) -> String {
    assert!(output.status.success(), "expected success, stderr:\n{}", stderr(output));
    stdout(output)
}

/// Asserts failure and returns stderr.
#[track_caller]
pub fn fails(output: &Output) -> String {
    assert!(!output.status.success(), "expected failure, stdout:\n{}", stdout(output));
    stderr(output)
}

/// Writes `bytes` at `dir/path`, creating folders.
pub fn write(dir: &Path, path: &str, bytes: impl AsRef<[u8]>) {
    let file = dir.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, bytes).unwrap();
}

/// A small valid course in `dir/course`: course.toml, agenda.toml, a lesson with an image, a PDF.
pub fn course(dir: &Path) -> PathBuf {
    let course = dir.join("course");
    write(&course, "course.toml", "id = \"essai\"\ntitle = \"Cours d'essai\"\nclass = \"3e B\"\nsubject = \"Physique-chimie\"\nteacher = \"Mme Curie\"\nlanguage = \"fr\"\n");
    write(&course, "agenda.toml", "[[homework]]\nsubject = \"Physique\"\ntask = \"Lire la fiche\"\ndue = \"2026-12-03\"\nattachments = [\"docs/fiche.pdf\"]\n");
    write(&course, "lessons/01-x.md", "# Le circuit\n\nVoici le schéma :\n\n![schéma](../images/x.svg)\n");
    write(&course, "images/x.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><circle r=\"4\"/></svg>\n");
    let pdf: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    write(&course, "docs/fiche.pdf", pdf);
    write(&course, ".git/HEAD", "hidden: never packed\n");
    course
}

/// Creates the key `dir/school.{secret,pub}`.
pub fn keygen(dir: &Path) {
    ok(&run(dir, &["keygen", "school"]));
}

/// Keys, the fixture course packed into `dir/out` with 1 KiB chunks; returns the out folder.
pub fn packed(dir: &Path) -> PathBuf {
    keygen(dir);
    course(dir);
    ok(&run(dir, &["pack", "course", "--key", "school.secret", "--out", "out", "--chunk-size", "1024"]));
    dir.join("out")
}

const PAGE: &str = "<!doctype html><head>\n<script type=\"application/json\" id=\"cartable-config\">\n  {\"manifest\": \"x\", \"key\": \"y\"}\n</script>\n</head><body></body>\n";

/// A packed course plus fake `www` and `pkg` folders in `dir`; a secret lies next to `www`.
pub fn site(dir: &Path) {
    packed(dir);
    write(dir, "www/index.html", PAGE);
    write(dir, "www/style.css", "body { margin: 0 }\n");
    write(dir, "www/sw.js", "self.addEventListener('fetch', () => {});\n");
    write(dir, "pkg/cartable.js", "export default function init() {}\n");
    write(dir, "pkg/cartable_bg.wasm", b"\0asm\x01\0\0\0");
    write(dir, "secret.txt", "must never be served\n");
}

/// A fake built app in `dir` (`www` and `pkg`, every file `cartable shell` reads), then `cartable shell`
/// run over it, as the build's last step does.
pub fn app(dir: &Path) {
    write(dir, "www/index.html", format!("{PAGE}<!-- {} -->\n", "a page worth compressing ".repeat(20)));
    write(dir, "www/embed.html", "<!doctype html><title>embed</title>\n");
    write(dir, "www/style.css", "body { margin: 0 }\n".repeat(40));
    write(dir, "www/sw.js", "self.addEventListener('fetch', () => {});\n");
    write(dir, "pkg/cartable.js", "export default function init() {}\n".repeat(40));
    let wasm: Vec<u8> = b"\0asm\x01\0\0\0".iter().copied().chain((0..4000u32).map(|i| (i % 7) as u8)).collect();
    write(dir, "pkg/cartable_bg.wasm", wasm);
    write(dir, "pkg/cartable_sw.js", "export default function init() {}\n");
    write(dir, "pkg/cartable_sw_bg.wasm", b"\0asm\x01\0\0\0 worker");
    write(dir, "pkg/snippets/cartable-0123/inline0.js", "export function take_lead() {}\n");
    ok(&run(dir, &["shell", "--www", "www", "--pkg", "pkg"]));
}

/// The arguments of `cartable serve` for the folder [`site`] writes.
pub const SITE_ARGS: &[&str] = &["--www", "www", "--pkg", "pkg", "--course", "out", "--pubkey", "school.pub"];

/// The chunk file names in `out/ipfs`, sorted.
pub fn chunk_names(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out.join("ipfs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// A running `cartable serve`, killed when dropped, even if the test fails.
pub struct Server {
    child: Child,
    /// Kept open: the server's output lines must not hit a closed pipe.
    _stdout: BufReader<ChildStdout>,
    /// `host:port` it listens on.
    pub address: String,
    /// The `cartable serve: ...` line.
    pub banner: String,
    /// The lines printed before it.
    pub before: Vec<String>,
}

impl Server {
    /// Starts `cartable serve --port 0 args...` in `dir` and waits for its address line.
    pub fn start(dir: &Path, args: &[&str]) -> Server {
        let mut all = vec!["serve", "--port", "0"];
        all.extend_from_slice(args);
        Server::spawn(dir, &all)
    }

    /// Starts `cartable args...` in `dir` and reads its output up to the `cartable serve:` line.
    pub fn spawn(dir: &Path, args: &[&str]) -> Server {
        Server::spawn_with_stderr(dir, args, Stdio::inherit())
    }

    /// Like [`Server::spawn`], with the server's standard error sent to `stderr`.
    pub fn spawn_with_stderr(dir: &Path, args: &[&str], stderr: Stdio) -> Server {
        let mut command = cartable();
        command.args(args);
        Server::spawn_command(dir, command, stderr)
    }

    /// Like [`Server::start`], with the server's open files limited to `open_files` (`ulimit -n`).
    pub fn start_with_open_files(dir: &Path, args: &[&str], open_files: u32) -> Server {
        let mut command = Command::new("sh");
        let limit = open_files.to_string();
        command.args(["-c", "ulimit -n \"$0\" && exec \"$@\"", &limit, env!("CARGO_BIN_EXE_cartable")]);
        command.args(["serve", "--port", "0"]).args(args);
        Server::spawn_command(dir, command, Stdio::inherit())
    }

    fn spawn_command(dir: &Path, mut command: Command, stderr: Stdio) -> Server {
        let mut child =
            command.current_dir(dir).stdout(Stdio::piped()).stderr(stderr).spawn().expect("the cartable binary starts");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut server =
            Server { child, _stdout: stdout, address: String::new(), banner: String::new(), before: Vec::new() };
        loop {
            let mut line = String::new();
            assert_ne!(server._stdout.read_line(&mut line).unwrap(), 0, "the server exited before listening");
            if let Some(address) = line.trim().strip_prefix("cartable serve: http://") {
                server.address = address.strip_suffix('/').expect("the address ends with /").to_owned();
                server.banner = line;
                return server;
            }
            server.before.push(line);
        }
    }

    /// The next line of output after the address line.
    pub fn next_line(&mut self) -> String {
        let mut line = String::new();
        self._stdout.read_line(&mut line).unwrap();
        line
    }

    /// Sends `method path` and reads the whole answer.
    pub fn request(&self, method: &str, path: &str) -> Reply {
        self.request_with(method, path, &[])
    }

    /// Sends `method path` with more `headers` (name, value) and reads the whole answer.
    pub fn request_with(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
        write!(stream, "{method} {path} HTTP/1.1\r\nHost: {}\r\n{extra}Connection: close\r\n\r\n", self.address)
            .unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        Reply::parse(&raw)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path)
    }

    /// Opens a connection and sends `GET path` on it, without reading the answer.
    pub fn send(&self, path: &str) -> TcpStream {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.address).unwrap();
        stream
    }

    /// `GET path`, reading for at most `wait`: the raw bytes received, and whether the server closed the
    /// connection (`false`: it was still open and silent when the time was up).
    pub fn get_for(&self, path: &str, wait: Duration) -> (Vec<u8>, bool) {
        let mut stream = self.send(path);
        stream.set_read_timeout(Some(wait)).unwrap();
        let mut raw = Vec::new();
        match stream.read_to_end(&mut raw) {
            Ok(_) => (raw, true),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => (raw, false),
            Err(error) if error.kind() == ErrorKind::ConnectionReset => (raw, true),
            Err(error) => panic!("reading {path}: {error}"),
        }
    }

    /// `GET path`, or `None` if the server closed the connection without answering anything.
    pub fn get_or_hangup(&self, path: &str) -> Option<Reply> {
        let (raw, closed) = self.get_for(path, Duration::from_secs(30));
        assert!(closed, "{path}: the server neither answered nor closed the connection");
        (!raw.is_empty()).then(|| Reply::parse(&raw))
    }

    /// The server's request counts and bytes sent, from `/_cartable/stats`.
    pub fn stats(&self) -> serde_json::Value {
        let reply = self.get("/_cartable/stats");
        assert_eq!(reply.status, 200);
        serde_json::from_slice(&reply.body).expect("the stats are JSON")
    }

    /// Sends SIGTERM and waits for the server to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(killed.success());
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer: status, headers (names lowercase) and body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// Parses a raw HTTP/1.1 answer (the head, then the rest as the body).
    pub fn parse(raw: &[u8]) -> Reply {
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete HTTP head");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        Reply { status, headers, body: raw[split + 4..].to_vec() }
    }

    /// The value of header `name` (lowercase), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}
