//! The network guard: the one way mediana fetches URLs that users name (harvest sources,
//! publiccode.yml files), so that a HarvestJob cannot be used to probe the cluster's own
//! network or the cloud's metadata service (SSRF).
//!
//! Every target is checked three times: the URL itself (IP literals never reach a DNS
//! resolver, so reqwest would skip the resolver hook for them), every address the name
//! resolves to (a custom [`reqwest::dns::Resolve`], which also defeats DNS rebinding because
//! the checked addresses are the ones connected to), and every redirect hop. Bodies are read
//! in chunks, decompressed as they come, and abandoned as soon as they exceed the size cap;
//! three timeouts (connect, stall, total) make a slow or hanging server end with a clear error.
//!
//! A document can be [downloaded](NetGuard::download) as a stream, so a catalogue of any size
//! is parsed as it arrives and never held in memory whole; small answers (JSON calls,
//! publiccode.yml files) are [buffered](NetGuard::fetch) under a tighter cap.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt as _;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use url::{Host, Url};

/// Host names of cloud metadata services, refused whatever the configuration says.
const METADATA_HOSTS: &[&str] = &[
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
    "metadata.tencentyun.com",
];

/// Settings of a [`NetGuard`].
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// Allow private, loopback, link-local, CGNAT and unique-local targets (for sources
    /// inside the cluster or the administration's network). Metadata addresses stay refused.
    pub allow_private_networks: bool,
    /// Time to establish a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of a response (its head, then each chunk of the body):
    /// catches servers that stall mid-body.
    pub read_timeout: Duration,
    /// Whole-request limit on the time spent waiting for the server, body included. Time the
    /// caller spends on what it already received (parsing a streamed catalogue, writing its
    /// datasets) does not count, so a large source read at its consumer's pace is not cut off.
    pub total_timeout: Duration,
    /// Largest body held in memory (JSON calls, [`NetGuard::fetch`]), in decompressed bytes.
    pub max_body_bytes: u64,
    /// Largest body streamed ([`NetGuard::download`]), in decompressed bytes: memory does not
    /// grow with it, so it only bounds the time and bandwidth a source (or a gzip bomb) takes.
    pub max_stream_bytes: u64,
    /// Redirect hops followed before giving up.
    pub max_redirects: usize,
    /// Attempts after the first for JSON calls that get 429, 502, 503, 504 or a connection error.
    pub retries: u32,
    /// First backoff delay; doubled per attempt, with full jitter.
    pub retry_base: Duration,
    /// Upper bound of any single wait, including a server's Retry-After.
    pub max_retry_wait: Duration,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            allow_private_networks: false,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(300),
            max_body_bytes: 256 * 1024 * 1024,
            // Eight times a 100,000-dataset RDF/XML catalogue (256 MB, docs/harvesting.md).
            max_stream_bytes: 2 * 1024 * 1024 * 1024,
            max_redirects: 5,
            retries: 4,
            retry_base: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(60),
        }
    }
}

/// Why a target was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A private, loopback, link-local, CGNAT or unique-local address, and private
    /// networks are not allowed.
    #[error(
        "{host} is {kind} address {ip}, refused unless private networks are allowed (a HarvestJob's allowPrivateNetworks)"
    )]
    PrivateAddress {
        /// The host as written in the URL.
        host: String,
        /// The address it is or resolved to.
        ip: IpAddr,
        /// What kind of address it is.
        kind: &'static str,
    },
    /// An address that is never a valid target (unspecified, multicast, broadcast, reserved).
    #[error("{host} is {kind} address {ip}, which is never a valid target")]
    InvalidAddress {
        /// The host as written in the URL.
        host: String,
        /// The address it is or resolved to.
        ip: IpAddr,
        /// What kind of address it is.
        kind: &'static str,
    },
    /// A cloud metadata service: refused even when private networks are allowed.
    #[error("{host} is a cloud metadata service, which is always refused")]
    Metadata {
        /// The host (name or address).
        host: String,
    },
    /// Only http and https are fetched.
    #[error("scheme {0:?} is not allowed (only http and https)")]
    Scheme(String),
    /// The URL has no host.
    #[error("the URL has no host")]
    NoHost,
    /// A redirect led back to a URL already visited.
    #[error("redirect loop back to {0}")]
    RedirectLoop(String),
    /// More redirects than allowed.
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
}

/// Errors of the network guard. Each names the URL.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The URL does not parse.
    #[error("invalid URL {url:?}: {source}")]
    InvalidUrl {
        /// The text given.
        url: String,
        /// What the URL parser said.
        #[source]
        source: url::ParseError,
    },
    /// The target (or a redirect, or a resolved address) was refused.
    #[error("{url}: refused: {reason}")]
    Refused {
        /// The URL requested.
        url: String,
        /// Why.
        #[source]
        reason: Refusal,
    },
    /// Connecting, waiting for data or the whole request took too long.
    #[error("{url}: timed out ({what})")]
    Timeout {
        /// The URL requested.
        url: String,
        /// What was waited for, and which limit ran out (connect, stall or total).
        what: String,
    },
    /// The body exceeded the size cap; reading stopped there.
    #[error("{url}: response larger than the limit of {limit} bytes")]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The cap in bytes.
        limit: u64,
    },
    /// The server answered with an error status (after retries, where they apply).
    #[error("{url}: HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        /// The URL requested.
        url: String,
        /// HTTP status code.
        status: u16,
        /// The start of the response body, for the message.
        body: String,
    },
    /// The response was not the JSON expected.
    #[error("{url}: invalid JSON response: {source}")]
    Json {
        /// The URL requested.
        url: String,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },
    /// Any other transport error (connection refused, TLS, protocol, a connection closed
    /// before the answer), with its causes: reqwest's own message names none.
    #[error("{url}: {}", with_causes(source))]
    Transport {
        /// The URL requested.
        url: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The HTTP client could not be built (TLS set-up).
    #[error("building the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

impl NetError {
    /// A stable category, for metrics and reasons.
    pub fn category(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => "InvalidUrl",
            Self::Refused { .. } => "Refused",
            Self::Timeout { .. } => "Timeout",
            Self::TooLarge { .. } => "TooLarge",
            Self::Status { .. } => "HttpStatus",
            Self::Json { .. } => "InvalidJson",
            Self::Transport { .. } => "Transport",
            Self::Client(_) => "Client",
        }
    }

    /// Whether another attempt may succeed (used by the retry loop): a connection that
    /// failed, or was lost before the answer came (a server restarting a worker mid-request).
    /// The latter may follow a request the server carried out, so [`NetGuard::json`] is for
    /// calls that are safe to repeat.
    fn is_transient(&self) -> bool {
        match self {
            Self::Timeout { what, .. } => what == "connect",
            Self::Transport { source, .. } => source.is_request(),
            _ => false,
        }
    }
}

/// A fetched document, held in memory.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The body.
    pub bytes: Vec<u8>,
    /// The response's Content-Type, if any.
    pub content_type: Option<String>,
    /// The URL after redirects.
    pub final_url: Url,
}

/// A document being downloaded: its body is read as the caller consumes it.
#[derive(Debug)]
pub struct Download {
    /// The body, not read yet.
    pub body: Body,
    /// The response's Content-Type, if any.
    pub content_type: Option<String>,
    /// The URL after redirects.
    pub final_url: Url,
}

/// A response body being read: decompressed chunk by chunk, cut off at the size cap, each
/// wait for the server under the stall and total timeouts. Errors name the URL requested.
#[derive(Debug)]
pub struct Body {
    response: reqwest::Response,
    url: Url,
    limit: u64,
    read: u64,
    clock: Clock,
}

impl Body {
    /// The next chunk of decompressed bytes; `None` at the end of the body.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, NetError> {
        let next = self.clock.wait(&self.url, "reading the body", self.response.chunk()).await?;
        let chunk = next.map_err(|e| transport_error(&self.url, e))?;
        if let Some(chunk) = &chunk {
            self.read += chunk.len() as u64;
            if self.read > self.limit {
                return Err(NetError::TooLarge { url: self.url.to_string(), limit: self.limit });
            }
        }
        Ok(chunk)
    }

    /// The body as an [`AsyncRead`](tokio::io::AsyncRead), for parsers that pull bytes.
    /// Its I/O errors carry the [`NetError`] (`std::io::Error::downcast` gives it back).
    pub fn into_reader(self) -> impl tokio::io::AsyncRead + Send + Unpin + 'static {
        let chunks = futures::stream::try_unfold(self, |mut body| async move {
            Ok::<_, NetError>(body.chunk().await?.map(|chunk| (chunk, body)))
        });
        tokio_util::io::StreamReader::new(Box::pin(chunks.map_err(std::io::Error::other)))
    }

    /// The whole body, in memory.
    async fn bytes(mut self) -> Result<Vec<u8>, NetError> {
        let mut bytes = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// The start of an error page, for the message; a failure to read it is not the error
    /// worth reporting, so it only ends the snippet.
    async fn snippet(mut self) -> Vec<u8> {
        let mut bytes = Vec::new();
        while bytes.len() < SNIPPET_BYTES
            && let Ok(Some(chunk)) = self.chunk().await
        {
            bytes.extend_from_slice(&chunk);
        }
        bytes
    }
}

/// How much of an error page is read for [`NetError::Status`] (200 characters of UTF-8).
const SNIPPET_BYTES: usize = 800;

/// The time spent waiting for one server, against the stall and total timeouts. Only waits
/// count: the time a caller spends on a chunk it has (parsing it, writing datasets to a slow
/// target) is the caller's, while a server that stalls or trickles is still cut off.
#[derive(Debug)]
struct Clock {
    stall: Duration,
    total: Duration,
    waited: Duration,
}

impl Clock {
    fn new(config: &NetConfig) -> Self {
        Self { stall: config.read_timeout, total: config.total_timeout, waited: Duration::ZERO }
    }

    /// Awaits `future` for at most the stall timeout and what is left of the total one.
    async fn wait<T>(&mut self, url: &Url, doing: &str, future: impl Future<Output = T>) -> Result<T, NetError> {
        let left = self.total.saturating_sub(self.waited);
        let started = tokio::time::Instant::now();
        let outcome = tokio::time::timeout(self.stall.min(left), future).await;
        self.waited += started.elapsed();
        outcome.map_err(|_| {
            let what = if left < self.stall {
                format!("{doing}, {:?} waiting for the server in all", self.total)
            } else {
                format!("{doing}, nothing received for {:?}", self.stall)
            };
            NetError::Timeout { url: url.to_string(), what }
        })
    }
}

/// A response whose body has not been read yet.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    final_url: Url,
    body: Body,
}

impl Answer {
    fn content_type(&self) -> Option<String> {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
}

/// The answer to a JSON call: CKAN reports errors as JSON with 4xx statuses, so both are
/// returned to the caller.
#[derive(Debug, Clone)]
pub struct JsonResponse {
    /// HTTP status.
    pub status: u16,
    /// The parsed body.
    pub body: serde_json::Value,
}

/// An HTTP client that only reaches allowed targets. Cheap to clone.
#[derive(Clone, Debug)]
pub struct NetGuard {
    client: reqwest::Client,
    config: Arc<NetConfig>,
}

impl NetGuard {
    /// Builds the guarded client.
    pub fn new(config: NetConfig) -> Result<Self, NetError> {
        crate::install_crypto_provider();
        let allow = config.allow_private_networks;
        let max_redirects = config.max_redirects;
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                return attempt.error(Refusal::TooManyRedirects(max_redirects));
            }
            if attempt.previous().iter().any(|u| u == attempt.url()) {
                let url = attempt.url().to_string();
                return attempt.error(Refusal::RedirectLoop(url));
            }
            match check_url(attempt.url(), allow) {
                Ok(()) => attempt.follow(),
                Err(refusal) => attempt.error(refusal),
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(concat!("mediana/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(GuardedResolver { allow_private: allow })
            .redirect(redirect)
            // A proxy would resolve names itself, out of the resolver's sight.
            .no_proxy()
            .connect_timeout(config.connect_timeout)
            // No read or total timeout here: reqwest's count the time between the caller's
            // reads too, which would cut off a streamed body read at a slow consumer's pace.
            // `Clock` times only the waits for the server.
            .build()
            .map_err(NetError::Client)?;
        Ok(Self { client, config: Arc::new(config) })
    }

    /// The settings in force.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// GETs a document into memory, refusing disallowed targets and bodies over
    /// `max_body_bytes`.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, NetError> {
        let download = self.get(url, self.config.max_body_bytes).await?;
        let bytes = download.body.bytes().await?;
        Ok(Fetched { bytes, content_type: download.content_type, final_url: download.final_url })
    }

    /// GETs a document whose body the caller reads as it goes (see [`Body`]), refusing
    /// disallowed targets and bodies over `max_stream_bytes`.
    pub async fn download(&self, url: &str) -> Result<Download, NetError> {
        self.get(url, self.config.max_stream_bytes).await
    }

    async fn get(&self, url: &str, limit: u64) -> Result<Download, NetError> {
        let parsed = parse_url(url)?;
        let answer = self.send(Method::GET, &parsed, None, None, limit).await?;
        if !answer.status.is_success() {
            return Err(status_error(&answer.final_url, answer.status, &answer.body.snippet().await));
        }
        let content_type = answer.content_type();
        Ok(Download { body: answer.body, content_type, final_url: answer.final_url })
    }

    /// Sends a JSON call (GET without body, POST with one), retrying 429, 502, 503, 504,
    /// connection failures and connections lost before the answer, with exponential backoff
    /// and full jitter, honouring Retry-After. The call must be safe to repeat: a lost
    /// answer may hide a request the server carried out.
    /// `token` goes in the `Authorization` header (CKAN's API token convention).
    pub async fn json(
        &self,
        method: Method,
        url: &Url,
        body: Option<&serde_json::Value>,
        token: Option<&str>,
    ) -> Result<JsonResponse, NetError> {
        let mut attempt = 0u32;
        loop {
            let outcome = self.send_buffered(method.clone(), url, body, token).await;
            let wait = match &outcome {
                Ok((status, headers, _, _)) if is_retryable_status(*status) => retry_after(headers),
                Err(e) if e.is_transient() => None,
                _ => break self.json_outcome(url, outcome),
            };
            if attempt >= self.config.retries {
                break self.json_outcome(url, outcome);
            }
            let delay =
                wait.unwrap_or_else(|| backoff(self.config.retry_base, attempt)).min(self.config.max_retry_wait);
            tracing::debug!(%url, attempt, ?delay, "retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn json_outcome(
        &self,
        url: &Url,
        outcome: Result<(StatusCode, HeaderMap, Url, Vec<u8>), NetError>,
    ) -> Result<JsonResponse, NetError> {
        let (status, _, final_url, bytes) = outcome?;
        match serde_json::from_slice(&bytes) {
            Ok(body) => Ok(JsonResponse { status: status.as_u16(), body }),
            Err(_) if !status.is_success() => Err(status_error(&final_url, status, &bytes)),
            Err(source) => Err(NetError::Json { url: url.to_string(), source }),
        }
    }

    /// Sends a request and reads the whole answer, under `max_body_bytes`.
    async fn send_buffered(
        &self,
        method: Method,
        url: &Url,
        body: Option<&serde_json::Value>,
        token: Option<&str>,
    ) -> Result<(StatusCode, HeaderMap, Url, Vec<u8>), NetError> {
        let answer = self.send(method, url, body, token, self.config.max_body_bytes).await?;
        let bytes = answer.body.bytes().await?;
        Ok((answer.status, answer.headers, answer.final_url, bytes))
    }

    /// Sends a request and waits for the head of the answer; its body, up to `limit`
    /// decompressed bytes, is left to read.
    async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Option<&serde_json::Value>,
        token: Option<&str>,
        limit: u64,
    ) -> Result<Answer, NetError> {
        check_url(url, self.config.allow_private_networks)
            .map_err(|reason| NetError::Refused { url: url.to_string(), reason })?;
        let mut request = self.client.request(method, url.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, token);
        }
        let mut clock = Clock::new(&self.config);
        let response =
            clock.wait(url, "waiting for the server", request.send()).await?.map_err(|e| transport_error(url, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let final_url = response.url().clone();
        // reqwest hands back, unfollowed, a redirect to a scheme it does not speak
        // (file:, ftp:): say why instead of reporting a bare 3xx.
        if status.is_redirection()
            && let Some(location) = headers.get(LOCATION).and_then(|v| v.to_str().ok())
            && let Ok(next) = final_url.join(location)
            && let Err(reason) = check_url(&next, self.config.allow_private_networks)
        {
            return Err(NetError::Refused { url: next.to_string(), reason });
        }
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(NetError::TooLarge { url: url.to_string(), limit });
        }
        let body = Body { response, url: url.clone(), limit, read: 0, clock };
        Ok(Answer { status, headers, final_url, body })
    }
}

/// Turns a reqwest error into a NetError, finding our own refusals in its source chain
/// (they travel through hyper's connector or the redirect policy as boxed errors).
fn transport_error(url: &Url, error: reqwest::Error) -> NetError {
    let url_text = error.url().map_or_else(|| url.to_string(), Url::to_string);
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        if let Some(refusal) = e.downcast_ref::<Refusal>() {
            return NetError::Refused { url: url_text, reason: refusal.clone() };
        }
        source = e.source();
    }
    // The client's only timeout is the connect one (the others are `Clock`'s).
    if error.is_timeout() {
        let what = if error.is_connect() { "connect" } else { "waiting for the server" };
        return NetError::Timeout { url: url_text, what: what.to_owned() };
    }
    NetError::Transport { url: url_text, source: error.without_url() }
}

/// `error` and its causes, outermost first, each said once.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let said = e.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        cause = e.source();
    }
    text
}

fn parse_url(url: &str) -> Result<Url, NetError> {
    Url::parse(url).map_err(|source| NetError::InvalidUrl { url: url.to_owned(), source })
}

fn status_error(url: &Url, status: StatusCode, body: &[u8]) -> NetError {
    let text = String::from_utf8_lossy(body);
    let snippet: String = text.chars().take(200).collect();
    NetError::Status { url: url.to_string(), status: status.as_u16(), body: snippet.trim().to_owned() }
}

fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// Retry-After as delta-seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.signed_duration_since(chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
    Some(wait)
}

/// Exponential backoff with full jitter (AWS architecture blog's "full jitter"): spreads
/// retries of many harvesters hitting one portal.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let ceiling = base.saturating_mul(1u32 << attempt.min(16));
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(rand::random_range(millis / 2..=millis))
}

/// Checks a URL before any connection: scheme, metadata host names and IP literals.
pub fn check_url(url: &Url, allow_private: bool) -> Result<(), Refusal> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refusal::Scheme(url.scheme().to_owned()));
    }
    match url.host() {
        None => Err(Refusal::NoHost),
        Some(Host::Domain(name)) => check_host_name(name),
        Some(Host::Ipv4(ip)) => check_ip(&ip.to_string(), IpAddr::V4(ip), allow_private),
        Some(Host::Ipv6(ip)) => check_ip(&ip.to_string(), IpAddr::V6(ip), allow_private),
    }
}

fn check_host_name(name: &str) -> Result<(), Refusal> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if METADATA_HOSTS.contains(&name.as_str()) {
        return Err(Refusal::Metadata { host: name });
    }
    Ok(())
}

/// What an address is, for the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// A public unicast address.
    Public,
    /// Private, loopback, link-local, CGNAT or unique-local: allowed only by the switch.
    Private(&'static str),
    /// Never a valid target.
    Invalid(&'static str),
    /// A cloud metadata service.
    Metadata,
}

/// Classifies an address. IPv4-mapped, NAT64 and 6to4 IPv6 addresses are judged by the
/// IPv4 address they carry, so `::ffff:127.0.0.1` is loopback.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return classify_v4(v4);
            }
            classify_v6(v6)
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    // AWS/GCP/Azure/OpenStack (169.254.169.254 and its neighbours: DNS, NTP), ECS task
    // metadata (169.254.170.2), Alibaba (100.100.100.200), Oracle (192.0.0.192).
    if (a, b, c) == (169, 254, 169) || ip == Ipv4Addr::new(169, 254, 170, 2) {
        return AddressClass::Metadata;
    }
    if ip == Ipv4Addr::new(100, 100, 100, 200) || ip == Ipv4Addr::new(192, 0, 0, 192) {
        return AddressClass::Metadata;
    }
    if ip.is_unspecified() || a == 0 {
        AddressClass::Invalid("an unspecified")
    } else if ip.is_broadcast() {
        AddressClass::Invalid("a broadcast")
    } else if ip.is_multicast() {
        AddressClass::Invalid("a multicast")
    } else if a >= 240 {
        AddressClass::Invalid("a reserved")
    } else if ip.is_loopback() {
        AddressClass::Private("a loopback")
    } else if ip.is_private() {
        AddressClass::Private("a private")
    } else if ip.is_link_local() {
        AddressClass::Private("a link-local")
    } else if a == 100 && (64..128).contains(&b) {
        AddressClass::Private("a carrier-grade NAT")
    } else if a == 192 && b == 0 && c == 0 {
        // IETF protocol assignments (192.0.0.0/24): not a place to harvest from.
        AddressClass::Invalid("an IETF protocol")
    } else if a == 198 && (b == 18 || b == 19) {
        AddressClass::Private("a benchmarking")
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let segments = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return AddressClass::Metadata;
    }
    if ip.is_unspecified() {
        AddressClass::Invalid("an unspecified")
    } else if ip.is_multicast() {
        AddressClass::Invalid("a multicast")
    } else if ip.is_loopback() {
        AddressClass::Private("a loopback")
    } else if segments[0] & 0xffc0 == 0xfe80 {
        AddressClass::Private("a link-local")
    } else if segments[0] & 0xfe00 == 0xfc00 {
        AddressClass::Private("a unique-local")
    } else if segments[0] & 0xffc0 == 0xfec0 {
        AddressClass::Private("a site-local")
    } else {
        AddressClass::Public
    }
}

/// The IPv4 address inside IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible, NAT64
/// (64:ff9b::/96) and 6to4 (2002::/16) addresses.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8));
    }
    // Deprecated IPv4-compatible form (::a.b.c.d), but not :: or ::1.
    if s[..6] == [0; 6] && (s[6] != 0 || s[7] > 1) {
        return Some(tail);
    }
    None
}

/// Refuses an address the configuration does not allow.
pub fn check_ip(host: &str, ip: IpAddr, allow_private: bool) -> Result<(), Refusal> {
    match classify(ip) {
        AddressClass::Public => Ok(()),
        AddressClass::Private(_) if allow_private => Ok(()),
        AddressClass::Private(kind) => Err(Refusal::PrivateAddress { host: host.to_owned(), ip, kind }),
        AddressClass::Invalid(kind) => Err(Refusal::InvalidAddress { host: host.to_owned(), ip, kind }),
        AddressClass::Metadata => Err(Refusal::Metadata { host: format!("{host} ({ip})") }),
    }
}

/// Resolves names with the system resolver and refuses the answer if any address is not
/// allowed: one bad address among good ones is a sign of a rebinding attempt.
#[derive(Debug)]
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allow = self.allow_private;
        Box::pin(async move {
            check_host_name(&host)?;
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for addr in &addrs {
                check_ip(&host, addr.ip(), allow)?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
