//! The `mediana` binary: parses the command line and calls into the library.

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::sync::Arc;

use mediana::api::harvest_job::{RdfFormat, RemovedDatasetPolicy, SourceType, ValidationMode};
use mediana::controllers::Settings;
use mediana::harvest::model::Agent;
use mediana::harvest::{RunConfig, SourceConfig, TargetConfig};
use mediana::leader::{self, LeaderElection};
use mediana::placement::PlacementPolicy;
use mediana::publiccode;
use mediana::render;
use mediana::telemetry::metrics::Metrics;
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
        /// Address of the probe and metrics endpoints (/healthz, /readyz, /metrics).
        #[arg(long, default_value = "0.0.0.0:8080", env = "MEDIANA_PROBE_ADDR")]
        probe_addr: SocketAddr,
        /// Elect a leader through a Lease, so that several replicas are safe.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set, env = "MEDIANA_LEADER_ELECTION")]
        leader_election: bool,
        /// Namespace of the leader-election Lease (the operator's own).
        #[arg(long, default_value = "default", env = "POD_NAMESPACE")]
        lease_namespace: String,
        /// Name of the leader-election Lease.
        #[arg(long, default_value = "mediana-leader", env = "MEDIANA_LEASE_NAME")]
        lease_name: String,
        /// The operator's own image, which harvester pods run and backup and restore pods
        /// take the `mediana` command from (the chart sets it to the image it runs).
        /// Default: ghcr.io/mediana-dev/mediana:<this version>.
        #[arg(long, env = "MEDIANA_OPERATOR_IMAGE")]
        operator_image: Option<String>,
        /// YAML file replacing rows of the placement table (data classification → minimum
        /// ACN level, kinds of cloud, adeguamento); the built-in defaults when omitted. See
        /// docs/placement.md.
        #[arg(long, env = "MEDIANA_PLACEMENT_POLICY")]
        placement_policy: Option<std::path::PathBuf>,
        /// CloudTarget of the ReusableSolutions that name none.
        #[arg(long, default_value = mediana::api::cloud_target::LOCAL_TARGET, env = "MEDIANA_DEFAULT_TARGET")]
        default_target: String,
        /// SPDX licence identifiers every reused solution's licence must satisfy, on any
        /// target (comma-separated); no operator-wide list when omitted.
        #[arg(long, value_delimiter = ',', env = "MEDIANA_ALLOWED_LICENSES")]
        allowed_licenses: Vec<String>,
        /// Seconds between probes of a reachable CloudTarget (version, nodes, capacity); an
        /// unreachable one is retried sooner, with backoff.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..), env = "MEDIANA_PROBE_INTERVAL_SECONDS")]
        probe_interval_seconds: u64,
    },
    /// Print what a remote cluster needs before a CloudTarget can point at it, to apply there
    /// as an administrator: a ServiceAccount, a ClusterRole with exactly the permissions the
    /// operator uses on remote clusters, its binding, and a token Secret (docs/broker.md).
    SpokeRbac {
        /// Namespace of the ServiceAccount on the remote cluster.
        #[arg(long, default_value = "mediana-system")]
        namespace: String,
        /// Name of the ServiceAccount, ClusterRole and binding.
        #[arg(long, default_value = "mediana-broker")]
        name: String,
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
        /// Fill the generated Secrets with values made as the operator makes them (instead of
        /// placeholders), so that the output can be applied without the operator.
        #[arg(long)]
        generate_secrets: bool,
    },
    /// Harvest a CKAN or DCAT catalogue into a CKAN portal once, from the command line.
    Harvest(HarvestArgs),
    /// Run a HarvestJob once and report into its status (what its pod runs).
    HarvestJob {
        /// Namespace of the HarvestJob.
        #[arg(long)]
        namespace: String,
        /// Name of the HarvestJob.
        #[arg(long)]
        name: String,
        /// The target node's CKAN base URL.
        #[arg(long)]
        target_url: String,
        /// File holding the target's API token (written by the pod's first container).
        #[arg(long)]
        target_token_file: std::path::PathBuf,
        /// Environment variable holding the source's API token, if it needs one.
        #[arg(long)]
        source_token_env: Option<String>,
        /// Revoke the target's token when the run ends: it was issued for this run alone (what
        /// the pod's first container does).
        #[arg(long)]
        revoke_target_token: bool,
        /// The Job this run is (the pod's `batch.kubernetes.io/job-name` label).
        #[arg(long, env = "MEDIANA_RUN_JOB")]
        run_job: Option<String>,
    },
    /// Validate documents without a cluster.
    Validate {
        #[command(subcommand)]
        what: ValidateCommand,
    },
    /// Back up a node to S3-compatible object storage, list a store's backups, fetch one
    /// back (docs/backup.md). Without a cluster.
    Backup {
        #[command(subcommand)]
        what: BackupCommand,
    },
    /// Copy this program into DIR: an init container's way of giving a pod of another image
    /// (PostgreSQL's, for backups and restores) the `mediana` command.
    CopyTo {
        /// The directory (an emptyDir the pod's other containers mount).
        dir: std::path::PathBuf,
    },
    /// Print the version of mediana and of the API it serves.
    Version,
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Dump PostgreSQL and archive the files directory into a new backup, write its
    /// manifest, then apply retention. pg_dump connects through $MEDIANA_BACKUP_DATABASE_URL
    /// (a libpq URL, read from the environment only) or the standard PG* variables.
    Run {
        #[command(flatten)]
        store: StoreArgs,
        /// The CatalogNode backed up (its folder in the store).
        #[arg(long, env = "MEDIANA_BACKUP_NODE")]
        node: String,
        /// CKAN's version on the node, recorded in the manifest.
        #[arg(long, env = "MEDIANA_BACKUP_CKAN_VERSION")]
        ckan_version: Option<String>,
        /// CKAN's database schema revision, recorded in the manifest when given.
        #[arg(long, env = "MEDIANA_BACKUP_SCHEMA_REVISION")]
        schema_revision: Option<String>,
        /// CKAN's storage directory (the uploaded files); without it, the database alone.
        #[arg(long, env = "MEDIANA_BACKUP_FILES_DIR")]
        files_dir: Option<std::path::PathBuf>,
        /// Keep the newest N complete backups (the newest is always kept).
        #[arg(long, env = "MEDIANA_BACKUP_KEEP")]
        keep: Option<u32>,
        /// Remove complete backups older than this many days (never the newest).
        #[arg(long, env = "MEDIANA_BACKUP_MAX_AGE_DAYS")]
        max_age_days: Option<u32>,
        /// Also write the backup's name, location, size and duration as one line of JSON to
        /// this file (a pod's termination log, which the operator reads).
        #[arg(long, env = "MEDIANA_BACKUP_REPORT")]
        report: Option<std::path::PathBuf>,
    },
    /// List the backups of a store (every node's, or one's): name, time, size, complete.
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Only this node's backups.
        #[arg(long)]
        node: Option<String>,
    },
    /// Download a complete backup's parts into a directory, refusing any part whose SHA-256
    /// does not match its manifest.
    Fetch {
        #[command(flatten)]
        store: StoreArgs,
        /// The node.
        #[arg(long)]
        node: String,
        /// The backup's name, or `latest` for the node's newest complete one.
        #[arg(long, default_value = "latest")]
        backup: String,
        /// Directory to write the parts and the manifest into (created if missing).
        #[arg(long)]
        into: std::path::PathBuf,
    },
    /// Restore a complete backup: every part downloaded and checked against its manifest
    /// first, then the database by pg_restore (one transaction) and the files by tar.
    /// pg_restore connects through $MEDIANA_BACKUP_DATABASE_URL or the standard PG* variables.
    Restore {
        #[command(flatten)]
        store: StoreArgs,
        /// The node whose backup it is (its folder in the store).
        #[arg(long, env = "MEDIANA_BACKUP_NODE")]
        node: String,
        /// The backup's name, or `latest` for the node's newest complete one.
        #[arg(long, default_value = "latest", env = "MEDIANA_BACKUP_NAME")]
        backup: String,
        /// Directory the parts are downloaded into (room for the whole backup).
        #[arg(long, env = "MEDIANA_BACKUP_WORK_DIR")]
        work_dir: std::path::PathBuf,
        /// CKAN's storage directory, which the uploaded files are extracted into.
        #[arg(long, env = "MEDIANA_BACKUP_FILES_DIR")]
        files_dir: std::path::PathBuf,
        /// Also write the restored backup's name, location, size and the restore's duration
        /// as one line of JSON to this file (a pod's termination log).
        #[arg(long, env = "MEDIANA_BACKUP_REPORT")]
        report: Option<std::path::PathBuf>,
    },
}

/// Where the backups are and how to reach them. Credentials only from files or the
/// environment: never as arguments, which every user of the machine can read.
#[derive(clap::Args)]
struct StoreArgs {
    /// The backups' location, s3://BUCKET[/PREFIX].
    #[arg(long, env = "MEDIANA_BACKUP_STORE")]
    store: String,
    /// The S3-compatible endpoint's URL (requests are path-style).
    #[arg(long, env = "MEDIANA_BACKUP_ENDPOINT")]
    endpoint: String,
    /// The region requests are signed for.
    #[arg(long, default_value = mediana::backup::DEFAULT_REGION, env = "MEDIANA_BACKUP_REGION")]
    region: String,
    /// File holding the access key id; $AWS_ACCESS_KEY_ID when omitted.
    #[arg(long, env = "MEDIANA_BACKUP_ACCESS_KEY_ID_FILE")]
    access_key_id_file: Option<std::path::PathBuf>,
    /// File holding the secret access key; $AWS_SECRET_ACCESS_KEY when omitted.
    #[arg(long, env = "MEDIANA_BACKUP_SECRET_ACCESS_KEY_FILE")]
    secret_access_key_file: Option<std::path::PathBuf>,
    /// PEM file of the certificate authorities the endpoint's certificate is checked
    /// against (the system's roots when omitted).
    #[arg(long, env = "MEDIANA_BACKUP_CA_BUNDLE")]
    ca_bundle: Option<std::path::PathBuf>,
}

impl StoreArgs {
    fn connect(self) -> anyhow::Result<mediana::backup::Store> {
        use mediana::backup::{Credentials, SecretSource, Store, StoreConfig};
        let source = |file: Option<std::path::PathBuf>, var: &str| {
            file.map_or(SecretSource::Env(var.into()), SecretSource::File)
        };
        let credentials = Credentials::read(
            &source(self.access_key_id_file, "AWS_ACCESS_KEY_ID"),
            &source(self.secret_access_key_file, "AWS_SECRET_ACCESS_KEY"),
        )?;
        let (bucket, prefix) = StoreConfig::parse_location(&self.store)?;
        let config = StoreConfig {
            endpoint: self.endpoint,
            bucket,
            prefix,
            region: self.region,
            credentials,
            ca_bundle: self.ca_bundle,
        };
        Ok(Store::connect(config)?)
    }
}

#[derive(Subcommand)]
enum ValidateCommand {
    /// Check a publiccode.yml against the standard (0.2 to 0.7 and the Italian extension):
    /// prints each error and warning with its key, then a summary; exits with 1 on errors.
    Publiccode {
        /// The publiccode.yml; `-` reads standard input.
        file: std::path::PathBuf,
        /// IndicePA code list (one code per line) to check IPA codes against, newer than
        /// the one mediana is built with (publiccode-parser-go v5.4.3's).
        #[arg(long, env = "MEDIANA_IPA_CODES")]
        ipa_codes: Option<std::path::PathBuf>,
        /// Check the form of the files the publiccode.yml names (logo, screenshots,
        /// authorsFile) only, not the files in its directory (or, for `-`, the working
        /// directory): for a publiccode.yml away from its repository.
        #[arg(long)]
        no_external_checks: bool,
    },
    /// Validate a DCAT-AP_IT catalogue file and score its metadata quality; exits 1 when a
    /// dataset is invalid.
    Dcat {
        /// RDF file (RDF/XML, Turtle, JSON-LD or N-Triples, told by its extension).
        file: std::path::PathBuf,
        /// Serialization, when the extension does not tell.
        #[arg(long, value_enum)]
        format: Option<RdfFormat>,
    },
}

#[derive(clap::Args)]
struct HarvestArgs {
    /// The source: a CKAN portal's base URL or a DCAT catalogue document's URL.
    #[arg(long)]
    source: String,
    /// Kind of source.
    #[arg(long, value_enum, default_value = "dcat")]
    source_type: SourceType,
    /// RDF serialization of a DCAT source (detected when omitted).
    #[arg(long, value_enum)]
    format: Option<RdfFormat>,
    /// Harvest only this organization of a CKAN source.
    #[arg(long)]
    source_organization: Option<String>,
    /// Extra Solr filter (fq) for a CKAN source.
    #[arg(long)]
    source_query: Option<String>,
    /// The target CKAN portal's base URL.
    #[arg(long)]
    target: String,
    /// Environment variable holding the target's API token (never pass tokens as arguments).
    #[arg(long, default_value = "MEDIANA_TARGET_TOKEN")]
    target_token_env: String,
    /// Organization (CKAN name) in the target; created when missing.
    #[arg(long)]
    organization: String,
    /// Job identity recorded on every dataset written (namespace/name).
    #[arg(long, default_value = "cli/harvest")]
    job: String,
    /// IPA code of the administration used as publisher and holder when the source names none.
    #[arg(long)]
    ipa_code: Option<String>,
    /// Name of that administration.
    #[arg(long)]
    administration_name: Option<String>,
    /// Validation mode.
    #[arg(long, value_enum, default_value = "enforce")]
    validation: ValidationMode,
    /// Delete this job's datasets that are gone from the source (with the percentage guard).
    #[arg(long)]
    delete_removed: bool,
    /// Largest share of this job's datasets a run may delete.
    #[arg(long, default_value_t = 20)]
    max_delete_percent: u32,
    /// Parallel writes.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Compute creates, updates and deletes without writing.
    #[arg(long)]
    dry_run: bool,
    /// Allow sources on private, loopback and link-local addresses (never cloud metadata).
    #[arg(long)]
    allow_private_networks: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match command(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One line, every cause after its context: a pod's termination message (which the
            // status quotes) and a log search both see why, not only what was being done.
            eprintln!("Error: {}", mediana::with_causes(error.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn command(cli: Cli) -> anyhow::Result<()> {
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
        Command::CopyTo { dir } => {
            let program = std::env::current_exe().context("finding this program's file")?;
            let copy = dir.join("mediana");
            std::fs::copy(&program, &copy)
                .with_context(|| format!("copying {} to {}", program.display(), copy.display()))?;
        }
        Command::Backup { what } => backup(what).await?,
        Command::SpokeRbac { namespace, name } => {
            for manifest in mediana::controllers::rbac::spoke_manifests(&namespace, &name) {
                print!("---\n{}", serde_saphyr::to_string(&manifest).context("rendering the manifests as YAML")?);
            }
        }
        Command::Validate { what: ValidateCommand::Dcat { file, format } } => {
            let reader = std::fs::File::open(&file).with_context(|| format!("reading {}", file.display()))?;
            let format = format.map(mediana::harvest::dcat::spec_format);
            let report =
                mediana::harvest::check::check(std::io::BufReader::new(reader), format, &file.display().to_string())?;
            print!("{report}");
            if !report.is_valid() {
                std::process::exit(1);
            }
        }
        Command::HarvestJob {
            namespace,
            name,
            target_url,
            target_token_file,
            source_token_env,
            revoke_target_token,
            run_job,
        } => {
            telemetry::init_logging(cli.log_format);
            let endpoints = mediana::harvest::job::Endpoints {
                target_url,
                target_token: Some(mediana::harvest::job::read_token(&target_token_file)?),
                source_token: source_token_env.and_then(|var| std::env::var(var).ok()).filter(|t| !t.is_empty()),
                revoke_target_token,
            };
            let client = kube::Client::try_default()
                .await
                .context("no Kubernetes client: set KUBECONFIG or run in a pod with a service account")?;
            let report = mediana::harvest::job::run_harvest_job(client, &namespace, &name, run_job, endpoints).await?;
            println!("{}", report.message);
            // A failed run is retried by the Job (spec.retries); a partial one is not.
            if report.result == mediana::api::harvest_job::RunResult::Failed {
                std::process::exit(1);
            }
        }
        Command::Harvest(args) => {
            telemetry::init_logging(cli.log_format);
            let report = harvest(args).await?;
            println!("{}", report.message);
            for error in &report.errors {
                println!("  {}: {}", error.dataset, error.reason);
            }
            if report.result != mediana::api::harvest_job::RunResult::Succeeded {
                std::process::exit(1);
            }
        }
        Command::Render { file, generate_secrets } => {
            let text = read_input(&file)?;
            let secrets = if generate_secrets { render::Secrets::Generated } else { render::Secrets::Placeholders };
            print!("{}", render::render(&text, secrets).with_context(|| format!("rendering {}", file.display()))?);
        }
        Command::Validate { what: ValidateCommand::Publiccode { file, ipa_codes, no_external_checks } } => {
            let ipa_codes = match ipa_codes {
                Some(list) => Some(publiccode::IpaCodes::from_lines(&read_input(&list)?)),
                None => None,
            };
            let repository = (!no_external_checks).then(|| repository_of(&file));
            let result = publiccode::validate(
                &read_input(&file)?,
                publiccode::ValidateOptions { ipa_codes: ipa_codes.as_ref(), repository: repository.as_deref() },
            );
            print!("{}", publiccode::report(&result));
            if result.as_ref().map_or(true, publiccode::Validation::has_errors) {
                std::process::exit(1);
            }
        }
        Command::Run {
            probe_addr,
            leader_election,
            lease_namespace,
            lease_name,
            placement_policy,
            default_target,
            allowed_licenses,
            operator_image,
            probe_interval_seconds,
        } => {
            telemetry::init_logging(cli.log_format);
            let placement = match placement_policy {
                Some(file) => PlacementPolicy::from_yaml(&read_input(&file)?, &file.display().to_string())?,
                None => PlacementPolicy::default(),
            };
            let defaults = Settings::default();
            let operator_image = operator_image.unwrap_or(defaults.operator_image);
            let probe_interval = std::time::Duration::from_secs(probe_interval_seconds);
            let settings = Settings { placement, default_target, allowed_licenses, operator_image, probe_interval };
            let election = leader_election.then(|| LeaderElection {
                namespace: lease_namespace,
                lease: lease_name,
                identity: std::env::var("POD_NAME")
                    .unwrap_or_else(|_| format!("{}-{}", hostname(), std::process::id())),
            });
            run(probe_addr, election, settings).await?;
        }
    }
    Ok(())
}

/// The directory a publiccode.yml's relative paths start from: the file's own or, for
/// standard input, the working directory (where publiccode-parser-go falls back to). Made
/// absolute when it can be, so that messages name files as upstream does.
fn repository_of(file: &std::path::Path) -> std::path::PathBuf {
    let here = std::path::Path::new(".");
    let dir = if file.as_os_str() == "-" {
        here
    } else {
        file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(here)
    };
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// The text of a file, or of standard input for `-`.
fn read_input(file: &std::path::Path) -> anyhow::Result<String> {
    if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
    }
}

async fn run(probe_addr: SocketAddr, election: Option<LeaderElection>, settings: Settings) -> anyhow::Result<()> {
    info!(version = mediana::version_line(), "starting");
    let (stop, shutdown) = watch::channel(false);
    let stop = Arc::new(stop);
    let on_signal = stop.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        info!("shutdown signal received, finishing reconciles in progress");
        let _ = on_signal.send(true);
    });
    let readiness = Readiness::default();
    let metrics = Arc::new(Metrics::default());
    let probes = tokio::spawn(telemetry::serve(probe_addr, readiness.clone(), metrics.clone(), shutdown.clone()));
    let config = kube::Config::infer()
        .await
        .context("no Kubernetes client: set KUBECONFIG or run in a pod with a service account")?;
    let client = mediana::controllers::targets::operator_client(config).context("a Kubernetes client")?;
    mediana::controllers::check_crds_served(&client).await?;
    // Ready means able to serve: a replica waiting for leadership is a ready standby.
    readiness.set_ready();

    let mut lost_leadership = None;
    let mut campaign = None;
    if let Some(election) = &election {
        let mut claim = leader::campaign(client.clone(), election).await.context("starting leader election")?;
        let mut waiting = shutdown.clone();
        if !leader::wait_for_leadership(&mut claim.leading, &mut waiting).await {
            info!("stopped before becoming leader");
            drop(claim.leading);
            let _ = claim.task.await;
            probes.await.context("probe server task")??;
            return Ok(());
        }
        info!(identity = election.identity, "became leader, starting controllers");
        metrics.set_leader(true);
        // Losing the Lease (e.g. the API server was unreachable for longer than its
        // duration) stops the controllers: another replica may lead by now.
        let mut leading = claim.leading.clone();
        let on_loss = stop.clone();
        lost_leadership = Some(tokio::spawn(async move {
            while leading.changed().await.is_ok() {
                if !*leading.borrow() {
                    tracing::error!("lost leadership, stopping the controllers");
                    let _ = on_loss.send(true);
                    return true;
                }
            }
            false
        }));
        campaign = Some(claim);
    } else {
        metrics.set_leader(true);
    }

    // Reconciles in progress may finish, within a bound: SIGTERM is always honoured before
    // the pod's grace period ends, even if a controller does not wind down.
    let mut stopping = shutdown.clone();
    tokio::select! {
        () = mediana::controllers::run(client, shutdown, metrics.clone(), settings) => {}
        () = async move {
            let _ = stopping.wait_for(|stop| *stop).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!(grace = ?SHUTDOWN_GRACE, "controllers did not stop in time, exiting anyway"),
    }
    metrics.set_leader(false);
    let lost = match lost_leadership {
        Some(watcher) => {
            watcher.abort();
            watcher.await.unwrap_or(false)
        }
        None => false,
    };
    if let Some(claim) = campaign {
        // Dropping the last receiver makes the lease task release the Lease: the next
        // replica takes over at once.
        drop(claim.leading);
        let _ = claim.task.await;
        info!("released the leader Lease");
    }
    probes.await.context("probe server task")?.with_context(|| format!("probe server on {probe_addr}"))?;
    anyhow::ensure!(!lost, "lost leadership: restarting as a follower is the safe course");
    Ok(())
}

async fn harvest(args: HarvestArgs) -> anyhow::Result<mediana::harvest::RunReport> {
    let source = SourceConfig {
        url: args.source,
        kind: args.source_type,
        format: args.format,
        organization: args.source_organization,
        query: args.source_query,
        token: None,
    };
    let target = TargetConfig {
        url: args.target,
        token: std::env::var(&args.target_token_env).ok().filter(|t| !t.is_empty()),
        organization: args.organization,
        organization_title: args.administration_name.clone(),
    };
    let mut config = RunConfig::new(source, target, args.job);
    config.default_agent = args.ipa_code.map(|ipa| Agent { identifier: Some(ipa), name: args.administration_name });
    config.validation = args.validation;
    config.removed_datasets =
        if args.delete_removed { RemovedDatasetPolicy::Delete } else { RemovedDatasetPolicy::Keep };
    config.max_delete_percent = args.max_delete_percent;
    config.concurrency = args.concurrency;
    config.dry_run = args.dry_run;
    config.net.allow_private_networks = args.allow_private_networks;
    // Progress on stderr, so stdout keeps only the result.
    let progress: mediana::harvest::ProgressHook = Arc::new(|p: &mediana::harvest::run::Progress| {
        let c = &p.counts;
        eprintln!(
            "{}: found {}, created {}, updated {}, unchanged {}, invalid {}, failed {}",
            p.phase, c.found, c.created, c.updated, c.unchanged, c.invalid, c.failed
        );
    });
    Ok(mediana::harvest::run(config, Some(progress)).await?)
}

async fn backup(what: BackupCommand) -> anyhow::Result<()> {
    use mediana::backup;
    match what {
        BackupCommand::Run { store, node, ckan_version, schema_revision, files_dir, keep, max_age_days, report } => {
            let store = store.connect()?;
            let retention = backup::Retention { keep, max_age_days };
            let database_url = database_url_from_env();
            let request =
                backup::BackupRequest { node, ckan_version, schema_revision, files_dir, retention, database_url };
            let started = std::time::Instant::now();
            let outcome = backup::run(&store, &request)
                .await
                .with_context(|| format!("backing up {} to {}", request.node, store.location()))?;
            let m = &outcome.manifest;
            println!(
                "backup {}/{} complete in {:.1} s, {} bytes",
                m.node,
                m.name,
                started.elapsed().as_secs_f64(),
                m.size()
            );
            for part in &m.parts {
                println!("  {}: {} bytes, sha256 {}", part.name, part.size, part.sha256);
            }
            if let Some(file) = report {
                write_report(&file, &backup::Report::of(m, store.location()))?;
            }
            // The backup is complete: a failed retention is reported, and the run fails so
            // that someone looks, but nothing is lost.
            let removed = outcome.retention.context("the backup is complete, but retention failed")?;
            for name in removed {
                println!("retention removed {name}");
            }
        }
        BackupCommand::List { store, node } => {
            let store = store.connect()?;
            let backups =
                backup::list(&store, node.as_deref()).await.with_context(|| format!("listing {}", store.location()))?;
            print!("{}", backup::table(&backups));
        }
        BackupCommand::Fetch { store, node, backup: name, into } => {
            let store = store.connect()?;
            let manifest = backup::fetch(&store, &node, &name, &into)
                .await
                .with_context(|| format!("fetching {node}/{name} from {}", store.location()))?;
            println!(
                "fetched {}/{} into {}: every part matches its manifest",
                manifest.node,
                manifest.name,
                into.display()
            );
        }
        BackupCommand::Restore { store, node, backup: name, work_dir, files_dir, report } => {
            let store = store.connect()?;
            let database_url = database_url_from_env();
            let request = backup::RestoreRequest { node, backup: name, work_dir, files_dir, database_url };
            let started = std::time::Instant::now();
            let manifest = backup::restore(&store, &request)
                .await
                .with_context(|| format!("restoring {}/{} from {}", request.node, request.backup, store.location()))?;
            let seconds = started.elapsed().as_secs_f64();
            println!("restored {}/{} in {seconds:.1} s", manifest.node, manifest.name);
            if let Some(file) = report {
                write_report(&file, &backup::Report { seconds, ..backup::Report::of(&manifest, store.location()) })?;
            }
        }
    }
    Ok(())
}

/// The database URL of a backup or restore pod: from the environment only, never an argument.
fn database_url_from_env() -> Option<String> {
    std::env::var("MEDIANA_BACKUP_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

/// A backup's or restore's report, one line of JSON (a pod's termination log).
fn write_report(file: &std::path::Path, report: &mediana::backup::Report) -> anyhow::Result<()> {
    let line = serde_json::to_string(report)?;
    std::fs::write(file, line).with_context(|| format!("writing the report to {}", file.display()))
}

/// How long reconciles in progress may run after SIGTERM (the chart gives the pod 30 s).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "mediana".into())
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
