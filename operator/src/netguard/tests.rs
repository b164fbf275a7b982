use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the test server does with one request.
pub(crate) enum Reply {
    /// Writes this raw HTTP response and closes.
    Full(String),
    /// Writes these raw bytes (a head and a binary body) and closes.
    Raw(Vec<u8>),
    /// Writes these raw bytes, then hangs with the connection open (a stall mid-body).
    Stall(Vec<u8>),
    /// Accepts and never answers.
    Hang,
    /// Reads the request and closes without an answer (a worker killed mid-request).
    Close,
    /// Writes the head, then chunks forever (chunked encoding).
    Endless,
    /// Writes the head, then a small chunk every 100 ms, forever.
    Trickle,
}

/// Writes a chunked head, then chunks of `size` bytes every `pause`, until the client leaves.
async fn chunk_forever(socket: &mut tokio::net::TcpStream, size: usize, pause: Duration) {
    let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let frame = [format!("{size:x}\r\n").into_bytes(), vec![b'x'; size], b"\r\n".to_vec()].concat();
    while socket.write_all(&frame).await.is_ok() {
        tokio::time::sleep(pause).await;
    }
}

pub(crate) fn ok_json(body: &str) -> Reply {
    Reply::Full(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
}

/// A raw 200 response whose body is `body` gzip-compressed (`Content-Encoding: gzip`), for
/// [`Reply::Raw`]; made before serving, as compressing megabytes outlasts the test timeouts.
pub(crate) fn gzipped(content_type: &str, body: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(body).expect("gzip in memory");
    let compressed = encoder.finish().expect("gzip in memory");
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        compressed.len()
    );
    [head.into_bytes(), compressed].concat()
}

pub(crate) fn status(code: u16, extra: &str) -> Reply {
    Reply::Full(format!("HTTP/1.1 {code} X\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"))
}

/// A one-thread HTTP/1.1 test server on 127.0.0.1; the handler gets the request line and
/// the request's sequence number.
pub(crate) async fn serve<F>(handler: F) -> (SocketAddr, Arc<AtomicUsize>)
where
    F: Fn(&str, usize) -> Reply + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let handler = handler.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head and a Content-Length body, so the client is not reset.
                loop {
                    let Ok(read) = socket.read(&mut chunk).await else { return };
                    if read == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..read]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_owned))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&buf).to_string();
                let line = text.lines().next().unwrap_or_default().to_owned();
                match handler(&line, n) {
                    Reply::Full(raw) => {
                        let _ = socket.write_all(raw.as_bytes()).await;
                        let _ = socket.shutdown().await;
                    }
                    Reply::Raw(raw) => {
                        let _ = socket.write_all(&raw).await;
                        let _ = socket.shutdown().await;
                    }
                    Reply::Stall(raw) => {
                        let _ = socket.write_all(&raw).await;
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    Reply::Hang => tokio::time::sleep(Duration::from_secs(3600)).await,
                    Reply::Close => drop(socket),
                    Reply::Endless => chunk_forever(&mut socket, 8192, Duration::ZERO).await,
                    Reply::Trickle => chunk_forever(&mut socket, 16, Duration::from_millis(100)).await,
                }
            });
        }
    });
    (addr, count)
}

pub(crate) fn fast(allow_private: bool) -> NetConfig {
    NetConfig {
        allow_private_networks: allow_private,
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(300),
        total_timeout: Duration::from_secs(5),
        max_body_bytes: 64 * 1024,
        max_stream_bytes: 4 * 1024 * 1024,
        retry_base: Duration::from_millis(10),
        ..NetConfig::default()
    }
}

fn guard(allow_private: bool) -> NetGuard {
    NetGuard::new(fast(allow_private)).expect("client")
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("address")
}

#[test]
fn addresses_are_classified() {
    for private in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.1.1",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fd12::1",
        "::ffff:127.0.0.1",
        "64:ff9b::a00:1",
        "2002:c0a8:101::1",
    ] {
        assert!(matches!(classify(ip(private)), AddressClass::Private(_)), "{private}");
    }
    for metadata in ["169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254", "::ffff:169.254.169.254"] {
        assert_eq!(classify(ip(metadata)), AddressClass::Metadata, "{metadata}");
    }
    for invalid in ["0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1"] {
        assert!(matches!(classify(ip(invalid)), AddressClass::Invalid(_)), "{invalid}");
    }
    for public in ["8.8.8.8", "93.184.216.34", "2a00:1450:4002::1", "100.128.0.1"] {
        assert_eq!(classify(ip(public)), AddressClass::Public, "{public}");
    }
}

#[test]
fn urls_are_checked_before_connecting() {
    let check = |u: &str, allow| check_url(&Url::parse(u).expect("url"), allow);
    assert!(matches!(check("http://10.0.0.1/", false), Err(Refusal::PrivateAddress { .. })));
    assert_eq!(check("http://10.0.0.1/", true), Ok(()));
    // Odd spellings of loopback still parse to 127.0.0.1 (WHATWG URL rules).
    assert!(matches!(check("http://2130706433/", false), Err(Refusal::PrivateAddress { .. })));
    assert!(matches!(check("http://0x7f.1/", false), Err(Refusal::PrivateAddress { .. })));
    assert!(matches!(check("http://[::ffff:7f00:1]/", false), Err(Refusal::PrivateAddress { .. })));
    assert!(matches!(check("http://169.254.169.254/latest", true), Err(Refusal::Metadata { .. })));
    assert!(matches!(check("http://[fd00:ec2::254]/", true), Err(Refusal::Metadata { .. })));
    assert!(matches!(check("http://metadata.google.internal./x", true), Err(Refusal::Metadata { .. })));
    assert!(matches!(check("file:///etc/passwd", true), Err(Refusal::Scheme(_))));
    assert!(matches!(check("ftp://example.org/", true), Err(Refusal::Scheme(_))));
    assert_eq!(check("https://dati.gov.it/opendata", false), Ok(()));
}

#[tokio::test]
async fn loopback_literal_is_refused_without_a_connection() {
    let (addr, count) = serve(|_, _| ok_json("{}")).await;
    let err = guard(false).fetch(&format!("http://{addr}/")).await.expect_err("refused");
    assert!(matches!(err, NetError::Refused { reason: Refusal::PrivateAddress { .. }, .. }), "{err}");
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn localhost_is_refused_after_dns_resolution() {
    let (addr, count) = serve(|_, _| ok_json("{}")).await;
    let err = guard(false).fetch(&format!("http://localhost:{}/", addr.port())).await.expect_err("refused");
    assert!(matches!(err, NetError::Refused { reason: Refusal::PrivateAddress { .. }, .. }), "{err}");
    assert!(err.to_string().contains("localhost"), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn private_networks_can_be_allowed_but_metadata_never() {
    let (addr, _) = serve(|_, _| ok_json(r#"{"ok":true}"#)).await;
    let fetched = guard(true).fetch(&format!("http://localhost:{}/x", addr.port())).await.expect("allowed");
    assert_eq!(fetched.bytes, br#"{"ok":true}"#);
    assert_eq!(fetched.content_type.as_deref(), Some("application/json"));
    let err = guard(true).fetch("http://169.254.169.254/latest/meta-data/").await.expect_err("metadata");
    assert!(matches!(err, NetError::Refused { reason: Refusal::Metadata { .. }, .. }), "{err}");
    let err = guard(true).fetch("http://metadata.google.internal/computeMetadata/v1/").await.expect_err("metadata");
    assert!(matches!(err, NetError::Refused { reason: Refusal::Metadata { .. }, .. }), "{err}");
}

#[tokio::test]
async fn redirects_are_checked_at_every_hop() {
    let (addr, _) = serve(|line, _| {
        let to = if line.contains("/meta") {
            "http://169.254.169.254/latest/meta-data/"
        } else if line.contains("/zero") {
            "http://0.0.0.0:1/"
        } else {
            "file:///etc/passwd"
        };
        status(302, &format!("Location: {to}\r\n"))
    })
    .await;
    let guard = guard(true);
    for (path, expected) in [("meta", "metadata"), ("zero", "never a valid target"), ("file", "scheme")] {
        let err = guard.fetch(&format!("http://{addr}/{path}")).await.expect_err("refused redirect");
        assert!(matches!(err, NetError::Refused { .. }), "{path}: {err}");
        assert!(err.to_string().contains(expected), "{path}: {err}");
    }
}

#[tokio::test]
async fn redirect_loops_and_long_chains_are_refused() {
    let (addr, _) = serve(|line, _| {
        if line.contains("/a ") {
            status(302, "Location: /b\r\n")
        } else if line.contains("/b ") {
            status(302, "Location: /a\r\n")
        } else {
            // /n/<k> redirects to /n/<k+1>: an endless chain without a loop.
            let k: usize =
                line.split('/').nth(2).and_then(|s| s.split(' ').next()).and_then(|s| s.parse().ok()).unwrap_or(0);
            status(302, &format!("Location: /n/{}\r\n", k + 1))
        }
    })
    .await;
    let err = guard(true).fetch(&format!("http://{addr}/a")).await.expect_err("loop");
    assert!(matches!(err, NetError::Refused { reason: Refusal::RedirectLoop(_), .. }), "{err}");
    let err = guard(true).fetch(&format!("http://{addr}/n/0")).await.expect_err("chain");
    assert!(matches!(err, NetError::Refused { reason: Refusal::TooManyRedirects(5), .. }), "{err}");
}

#[tokio::test]
async fn hanging_server_times_out() {
    let (addr, _) = serve(|_, _| Reply::Hang).await;
    let started = std::time::Instant::now();
    let err = guard(true).fetch(&format!("http://{addr}/")).await.expect_err("timeout");
    assert!(matches!(err, NetError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn oversize_body_is_cut_off_while_streaming() {
    let (addr, _) = serve(|_, _| Reply::Endless).await;
    let err = guard(true).fetch(&format!("http://{addr}/")).await.expect_err("too large");
    assert!(matches!(err, NetError::TooLarge { limit: 65536, .. }), "{err}");
    // A declared Content-Length over the cap is refused before reading.
    let (addr, _) = serve(|_, _| Reply::Full("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\nxx".into())).await;
    let err = guard(true).fetch(&format!("http://{addr}/")).await.expect_err("too large");
    assert!(matches!(err, NetError::TooLarge { .. }), "{err}");
}

/// A body as the guard streams it: decompressed, counted, and not a `Vec` of the whole.
async fn stream_length(guard: &NetGuard, url: &str) -> Result<u64, std::io::Error> {
    let download = guard.download(url).await.map_err(std::io::Error::other)?;
    tokio::io::copy(&mut download.body.into_reader(), &mut tokio::io::sink()).await
}

#[tokio::test]
async fn downloads_stream_past_the_in_memory_cap_and_decompress() {
    // 1 MiB once decompressed: sixteen times the cap on bodies held in memory.
    let raw = gzipped("text/turtle", &vec![b'a'; 1024 * 1024]);
    let (addr, _) = serve(move |_, _| Reply::Raw(raw.clone())).await;
    let url = format!("http://{addr}/catalog.ttl");
    assert_eq!(stream_length(&guard(true), &url).await.expect("streamed"), 1024 * 1024);
    let err = guard(true).fetch(&url).await.expect_err("held in memory: over the cap");
    assert!(matches!(err, NetError::TooLarge { limit: 65536, .. }), "{err}");
}

#[tokio::test]
async fn the_stream_cap_counts_decompressed_bytes() {
    // A gzip bomb: a few KiB on the wire, four times the cap once decompressed.
    let raw = gzipped("text/turtle", &vec![0u8; 16 * 1024 * 1024]);
    let (addr, _) = serve(move |_, _| Reply::Raw(raw.clone())).await;
    let url = format!("http://{addr}/bomb.ttl");
    let err = stream_length(&guard(true), &url).await.expect_err("cut off");
    let err = err.downcast::<NetError>().expect("the guard's own error");
    assert!(matches!(err, NetError::TooLarge { limit: 4194304, .. }), "{err}");
    assert!(err.to_string().contains(&url) && err.to_string().contains("4194304 bytes"), "{err}");
}

#[tokio::test]
async fn a_stall_mid_body_times_out() {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/turtle\r\nContent-Length: 100000\r\n\r\n# the start\n";
    let (addr, _) = serve(move |_, _| Reply::Stall(head.as_bytes().to_vec())).await;
    let url = format!("http://{addr}/catalog.ttl");
    let mut body = guard(true).download(&url).await.expect("the head arrives").body;
    assert!(body.chunk().await.expect("the first bytes").is_some());
    let started = std::time::Instant::now();
    let err = body.chunk().await.expect_err("stalled");
    assert!(matches!(err, NetError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("reading the body, nothing received for 300ms"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_slow_reader_is_not_a_stalled_server() {
    // The reader pauses longer than the stall timeout and, in all, longer than the total
    // one (a harvest writing into a slow target): the server was never waited for that long.
    let config = NetConfig { total_timeout: Duration::from_secs(1), ..fast(true) };
    let raw = gzipped("text/turtle", &vec![b'a'; 1024 * 1024]);
    let (addr, _) = serve(move |_, _| Reply::Raw(raw.clone())).await;
    let mut body =
        NetGuard::new(config).expect("client").download(&format!("http://{addr}/")).await.expect("head").body;
    let (mut read, mut chunks) = (0, 0);
    while let Some(chunk) = body.chunk().await.expect("not timed out") {
        read += chunk.len();
        chunks += 1;
        if chunks <= 3 {
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }
    assert_eq!(read, 1024 * 1024);
    assert!(chunks > 3, "{chunks} chunks: the pauses were not all between chunks");
}

#[tokio::test]
async fn a_trickling_server_meets_the_total_timeout() {
    // Each wait is under the stall timeout, but they add up past the total one.
    let config = NetConfig { total_timeout: Duration::from_millis(600), ..fast(true) };
    let (addr, _) = serve(|_, _| Reply::Trickle).await;
    let mut body =
        NetGuard::new(config).expect("client").download(&format!("http://{addr}/")).await.expect("head").body;
    let started = std::time::Instant::now();
    let err = loop {
        match body.chunk().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the trickle ended"),
            Err(err) => break err,
        }
    };
    assert!(err.to_string().contains("600ms waiting for the server in all"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn json_calls_retry_429_and_503_honouring_retry_after() {
    let (addr, count) = serve(|_, n| match n {
        0 => status(429, "Retry-After: 1\r\n"),
        1 => status(503, "Retry-After: 0\r\n"),
        _ => ok_json(r#"{"success":true,"result":1}"#),
    })
    .await;
    let url = Url::parse(&format!("http://{addr}/api/3/action/package_search")).expect("url");
    let started = std::time::Instant::now();
    let body = serde_json::json!({"q": "*:*"});
    let response = guard(true).json(Method::POST, &url, Some(&body), Some("tok")).await.expect("json");
    assert_eq!(response.status, 200);
    assert_eq!(response.body["result"], 1);
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was not honoured");
}

#[tokio::test]
async fn json_calls_retry_a_connection_closed_before_the_answer_and_name_its_cause() {
    let (addr, count) =
        serve(|_, n| if n == 0 { Reply::Close } else { ok_json(r#"{"success":true,"result":2}"#) }).await;
    let url = Url::parse(&format!("http://{addr}/api/3/action/package_update")).expect("url");
    let body = serde_json::json!({"id": "x"});
    let response = guard(true).json(Method::POST, &url, Some(&body), None).await.expect("retried");
    assert_eq!((response.body["result"].as_i64(), count.load(Ordering::SeqCst)), (Some(2), 2));

    let (addr, count) = serve(|_, _| Reply::Close).await;
    let url = Url::parse(&format!("http://{addr}/api/3/action/package_create")).expect("url");
    let err = guard(true).json(Method::POST, &url, Some(&body), None).await.expect_err("gives up");
    assert_eq!(count.load(Ordering::SeqCst), 5, "four retries");
    let text = err.to_string();
    assert!(text.starts_with(&format!("{url}: error sending request: ")), "{text}");
    assert!(text.contains("closed"), "the cause is named: {text}");
    assert_eq!(text.matches(url.as_str()).count(), 1, "the URL once: {text}");
}

#[tokio::test]
async fn json_calls_give_up_after_the_retries() {
    let (addr, count) = serve(|_, _| status(503, "")).await;
    let url = Url::parse(&format!("http://{addr}/x")).expect("url");
    let err = guard(true).json(Method::GET, &url, None, None).await.expect_err("gives up");
    assert!(matches!(err, NetError::Status { status: 503, .. }), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn malformed_json_names_the_url() {
    let (addr, _) = serve(|_, _| ok_json("{not json")).await;
    let url = Url::parse(&format!("http://{addr}/bad")).expect("url");
    let err = guard(true).json(Method::GET, &url, None, None).await.expect_err("bad json");
    assert!(matches!(err, NetError::Json { .. }), "{err}");
    assert!(err.to_string().contains("/bad"), "{err}");
}

#[test]
fn retry_after_accepts_seconds_and_dates() {
    let mut headers = HeaderMap::new();
    headers.insert(RETRY_AFTER, "7".parse().expect("header"));
    assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
    headers.insert(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"));
    assert_eq!(retry_after(&headers), Some(Duration::ZERO));
    for attempt in 0..4 {
        let d = backoff(Duration::from_millis(100), attempt);
        assert!(d <= Duration::from_millis(100 << attempt) && d >= Duration::from_millis(50 << attempt), "{d:?}");
    }
}
