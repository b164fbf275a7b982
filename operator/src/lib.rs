//! mediana: a Kubernetes operator for the Italian public administration's interregional
//! cloud. The crate is a library; `main.rs` parses the command line and calls into it.

pub mod api;
pub mod backup;
pub mod controllers;
pub mod harvest;
pub mod leader;
pub mod netguard;
pub mod placement;
pub mod publiccode;
pub mod render;
pub mod telemetry;

/// Bytes as lowercase hexadecimal (digests, random tokens): one encoding for every caller.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One line naming this build and the API it serves.
pub fn version_line() -> String {
    format!("mediana {} (API {}/v1alpha1)", env!("CARGO_PKG_VERSION"), api::GROUP)
}

/// Installs ring as the process's rustls provider. reqwest is built without a bundled one
/// (kube uses ring, and aws-lc-rs would be a second C library to build and audit), so every
/// TLS client of the process calls this first; installing it again is refused, harmlessly.
pub(crate) fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An error and its causes on one line, `outer: cause: …`: object_store's and reqwest's own
/// messages stop at "builder error" or "error sending request", the cause that a person needs
/// being further down the chain. A cause whose text the message already holds (thiserror
/// messages that quote their source) is not repeated.
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let text = inner.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        cause = inner.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_says_its_causes_once_each() {
        #[derive(Debug, thiserror::Error)]
        #[error("builder error")]
        struct Builder(#[source] std::io::Error);
        let cause = Builder(std::io::Error::other("no CA certificates found"));
        let err = object_store::Error::Generic { store: "S3", source: Box::new(cause) };
        assert_eq!(with_causes(&err), "Generic S3 error: builder error: no CA certificates found");
    }
}
