//! The `mediana` binary: parses the command line and calls into the library.

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use mediana::telemetry::{self, LogFormat, Readiness};
use tokio::sync::watch;
use tracing::info;

/// mediana: the Kubernetes operator for the Italian public administration's interregional
/// cloud (CKAN/DCAT-AP_IT catalogue nodes, harvesting, reusable solutions, certified-cloud
/// placement).
#[derive(Parser)]
#[command(name = "mediana", version, about)]
struct Cli {
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "MEDIANA_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the operator against the cluster of KUBECONFIG or the in-cluster service account.
    Run {
        /// Address of the probe endpoints (/healthz, /readyz).
        #[arg(long, default_value = "0.0.0.0:8080", env = "MEDIANA_PROBE_ADDR")]
        probe_addr: SocketAddr,
    },
    /// Print the CustomResourceDefinitions of every mediana kind as YAML.
    Crds {
        /// Write one file per CRD into this directory instead of printing them.
        #[arg(long)]
        output_dir: Option<std::path::PathBuf>,
    },
    /// Print the children the operator would create for the objects in a file, as YAML,
    /// without a cluster (a preview for reviews and GitOps pull requests).
    Render {
        /// File with one or more objects (multi-document YAML); `-` reads standard input.
        #[arg(short = 'f', long = "filename")]
        file: std::path::PathBuf,
    },
    /// Print the version of mediana and of the API it serves.
    Version,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds { output_dir: None } => {
            print!("{}", mediana::api::crds_yaml().context("rendering the CRDs as YAML")?)
        }
        Command::Crds { output_dir: Some(dir) } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for (file, yaml) in mediana::api::crd_documents().context("rendering the CRDs as YAML")? {
                let path = dir.join(file);
                std::fs::write(&path, yaml).with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Command::Version => println!("{}", mediana::version_line()),
        Command::Render { file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("reading standard input")?
            } else {
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?
            };
            print!("{}", mediana::render::render(&text).with_context(|| format!("rendering {}", file.display()))?);
        }
        Command::Run { probe_addr } => {
            telemetry::init_logging(cli.log_format);
            run(probe_addr).await?;
        }
    }
    Ok(())
}

async fn run(probe_addr: SocketAddr) -> anyhow::Result<()> {
    info!(version = mediana::version_line(), "starting");
    let (stop, shutdown) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        info!("shutdown signal received, finishing reconciles in progress");
        let _ = stop.send(true);
    });
    let readiness = Readiness::default();
    let probes = tokio::spawn(telemetry::serve(probe_addr, readiness.clone(), shutdown.clone()));
    let client = kube::Client::try_default()
        .await
        .context("no Kubernetes client: set KUBECONFIG or run in a pod with a service account")?;
    mediana::controllers::check_crds_served(&client).await?;
    readiness.set_ready();
    mediana::controllers::run(client, shutdown).await;
    probes.await.context("probe server task")?.with_context(|| format!("probe server on {probe_addr}"))?;
    Ok(())
}

/// Resolves on SIGTERM (Kubernetes stopping the pod) or Ctrl-C.
async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
