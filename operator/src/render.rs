//! `mediana render`: the children the operator would create for the objects in a file,
//! computed by the same builders, without a cluster. A preview for reviews and GitOps
//! pull requests.

use k8s_openapi::api::core::v1::Secret;
use kube::Resource;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::harvest_job::RUN_NOW_ANNOTATION;
use crate::api::{CatalogNode, HarvestJob, ReusableSolution};
use crate::controllers::Settings;
use crate::controllers::catalog_node::backups::BackupContext;
use crate::controllers::catalog_node::builders;
use crate::controllers::children::{Child, Owner, metadata};
use crate::controllers::harvest_job::builders::{self as harvest_builders, TargetNode};
use crate::controllers::reusable_solution::builders as solution_builders;
use crate::controllers::secrets::{GeneratedSecret, SecretValue, generate};

/// Why a file could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The file is not YAML.
    #[error("not valid YAML: {0}")]
    Yaml(String),
    /// A document is not a valid object of its kind.
    #[error("document {index} ({kind} {name}): {path}: {message}")]
    Invalid {
        /// Position of the document in the file, from 1.
        index: usize,
        /// Its kind.
        kind: String,
        /// Its name.
        name: String,
        /// The field at fault, e.g. `spec.replicas`.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// A child could not be built.
    #[error("building the children of {name}: {source}")]
    Build {
        /// The object whose children failed.
        name: String,
        /// What failed.
        #[source]
        source: crate::controllers::Error,
    },
    /// Serializing the output failed.
    #[error("writing YAML: {0}")]
    Output(String),
}

/// Most documents one file may hold for `mediana render`.
const RENDER_MAX_DOCUMENTS: usize = 100_000;

/// What a generated value looks like in a preview: never a real secret.
const GENERATED: &str = "<generated once by the operator>";

/// What the generated Secrets of a rendering hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secrets {
    /// A placeholder for every generated value: a preview that reveals nothing and changes
    /// only when the children do (for reviews and pull requests).
    Placeholders,
    /// Values generated as the operator generates them, so that the output can be applied
    /// to a cluster without the operator (and compared with it, as the serving benchmark does).
    Generated,
}

/// Renders the children of every CatalogNode, ReusableSolution and HarvestJob in `manifests`
/// (multi-document YAML); CloudTargets are skipped, since they have no children. A solution
/// is rendered as if its placement and reuse policy allowed it: those depend on the
/// cluster. A HarvestJob is rendered when its CatalogNode is in the file, and otherwise named
/// in a comment. Returns multi-document YAML.
pub fn render(manifests: &str, secrets: Secrets) -> Result<String, RenderError> {
    // A broker's repository holds one HarvestJob per administration (16,547 in the country):
    // the parser's default budget (1,024 documents, 250,000 nodes) is for configuration files.
    let options = serde_saphyr::options! {
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            max_documents: RENDER_MAX_DOCUMENTS,
            max_nodes: RENDER_MAX_DOCUMENTS * 100,
            max_events: RENDER_MAX_DOCUMENTS * 400,
        },
    };
    let documents: Vec<Value> = serde_saphyr::from_multiple_with_options(manifests, options)
        .map_err(|err| RenderError::Yaml(err.to_string()))?;
    let nodes: Vec<CatalogNode> = documents
        .iter()
        .enumerate()
        .filter(|(_, d)| d["kind"] == "CatalogNode")
        .map(|(index, d)| parse(d, index))
        .collect::<Result<_, _>>()?;
    let mut out = String::new();
    for (index, document) in documents.into_iter().enumerate().filter(|(_, d)| !d.is_null()) {
        let children = match document["kind"].as_str() {
            Some("CatalogNode") => {
                let node: CatalogNode = parse(&document, index)?;
                preview(&node, secrets, |owner| {
                    let spec = &node.spec;
                    let release = builders::Release::desired(spec);
                    let operator_image = Settings::default().operator_image;
                    let context = BackupContext { operator_image: &operator_image, ckan_version: &release.version };
                    let children = builders::children(spec, owner, Some(&release), context)?;
                    Ok((builders::generated_secrets(spec, owner), children))
                })?
            }
            Some("ReusableSolution") => {
                let solution: ReusableSolution = parse(&document, index)?;
                preview(&solution, secrets, |owner| {
                    let spec = &solution.spec;
                    Ok((solution_builders::generated_secrets(spec, owner), solution_builders::children(spec, owner)?))
                })?
            }
            Some("HarvestJob") => {
                let job: HarvestJob = parse(&document, index)?;
                let (namespace, node) =
                    (job.metadata.namespace.clone().unwrap_or_default(), &job.spec.target.catalog_node);
                let target = nodes.iter().find(|n| {
                    n.metadata.namespace.as_deref() == Some(namespace.as_str())
                        && n.metadata.name.as_ref() == Some(node)
                });
                let Some(target) = target else {
                    // Its children depend on the node (names, CKAN release): said in the
                    // output, where a reviewer reads it, rather than failing the whole preview.
                    let name = job.metadata.name.as_deref().unwrap_or_default();
                    out.push_str(&format!(
                        "# HarvestJob {namespace}/{name}: not rendered, its CatalogNode {namespace}/{node} is not in the file\n"
                    ));
                    continue;
                };
                preview(&job, secrets, |owner| {
                    let run_now = job.metadata.annotations.as_ref().and_then(|a| a.get(RUN_NOW_ANNOTATION));
                    let target = TargetNode::of(target)?;
                    let children = harvest_builders::children(
                        &job.spec,
                        owner,
                        &target,
                        &Settings::default(),
                        run_now.map(String::as_str),
                    )?;
                    Ok((Vec::new(), children))
                })?
            }
            _ => continue,
        };
        for child in children {
            out.push_str("---\n");
            out.push_str(&serde_saphyr::to_string(&child.object).map_err(|err| RenderError::Output(err.to_string()))?);
        }
    }
    Ok(out)
}

/// Reads one document as a `K`, in the `default` namespace when it names none.
fn parse<K: DeserializeOwned + Resource<DynamicType = ()>>(document: &Value, index: usize) -> Result<K, RenderError> {
    let mut object: K = serde_path_to_error::deserialize(document).map_err(|err| RenderError::Invalid {
        index: index + 1,
        kind: K::kind(&()).into_owned(),
        name: document["metadata"]["name"].as_str().unwrap_or("?").to_owned(),
        path: err.path().to_string(),
        message: err.inner().to_string(),
    })?;
    if object.meta().namespace.is_none() {
        object.meta_mut().namespace = Some("default".into());
    }
    Ok(object)
}

type Built = (Vec<GeneratedSecret>, Vec<Child>);

/// The children `build` makes for `parent`, preceded by its generated Secrets, holding
/// what `secrets` says.
fn preview<K: Resource<DynamicType = ()>>(
    parent: &K,
    secrets: Secrets,
    build: impl FnOnce(&Owner) -> Result<Built, crate::controllers::Error>,
) -> Result<Vec<Child>, RenderError> {
    let build_error = |source| RenderError::Build { name: parent.meta().name.clone().unwrap_or_default(), source };
    // No owner reference: the parent has no UID before it is created.
    let owner = Owner { reference: None, ..Owner::of(parent).map_err(build_error)? };
    let (generated, built) = build(&owner).map_err(build_error)?;
    let mut children = Vec::new();
    for secret in generated {
        let metadata = metadata(&owner, &secret.name, secret.component);
        let preview = match secrets {
            Secrets::Placeholders => {
                let text = |value: &SecretValue| match value {
                    SecretValue::Literal(text) => text.clone(),
                    SecretValue::Random | SecretValue::Template(_) => GENERATED.to_owned(),
                };
                let data = secret.keys.iter().map(|(key, value)| (key.clone(), text(value))).collect();
                Secret { metadata, string_data: Some(data), ..Default::default() }
            }
            // As the operator makes them (`secrets::ensure`); readable, as the placeholders are.
            Secrets::Generated => {
                let generated = generate(&secret.keys).map_err(build_error)?;
                let data =
                    generated.into_iter().map(|(key, value)| (key, String::from_utf8_lossy(&value.0).into_owned()));
                Secret { metadata, string_data: Some(data.collect()), ..Default::default() }
            }
        };
        children.push(Child::new(&preview).map_err(build_error)?);
    }
    children.extend(built);
    Ok(children)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE: &str = "apiVersion: mediana.dev/v1alpha1\nkind: CatalogNode\nmetadata:\n  name: marche\n  namespace: opendata\nspec:\n  hostname: dati.regione.marche.it\n  publisher:\n    ipaCode: r_marche\n";

    #[test]
    fn renders_children_and_secret_placeholders() {
        let text = render(NODE, Secrets::Placeholders).expect("renders");
        let documents: Vec<Value> = serde_saphyr::from_multiple(&text).expect("valid YAML");
        let kinds: Vec<String> = documents
            .iter()
            .map(|d| format!("{}/{}", d["kind"].as_str().unwrap_or(""), d["metadata"]["name"].as_str().unwrap_or("")))
            .collect();
        assert!(kinds.contains(&"Deployment/marche-ckan".to_owned()), "{kinds:?}");
        assert!(kinds.contains(&"Secret/marche-db".to_owned()), "{kinds:?}");
        let db = documents.iter().find(|d| d["metadata"]["name"] == "marche-db").expect("db secret");
        assert_eq!(db["stringData"]["PGPASSWORD"], GENERATED);
        assert_eq!(db["stringData"]["PGUSER"], "ckan");
        assert!(documents.iter().all(|d| d["metadata"]["namespace"] == "opendata"));
    }

    #[test]
    fn generated_secrets_hold_values_their_templates_agree_with() {
        let text = render(NODE, Secrets::Generated).expect("renders");
        let documents: Vec<Value> = serde_saphyr::from_multiple(&text).expect("valid YAML");
        let db = &documents.iter().find(|d| d["metadata"]["name"] == "marche-db").expect("db secret")["stringData"];
        let password = db["PGPASSWORD"].as_str().expect("a password");
        assert_eq!(password.len(), 64, "{password}");
        assert_eq!(db["url"], format!("postgresql://ckan:{password}@marche-postgres:5432/ckan"));
        let again: Vec<Value> =
            serde_saphyr::from_multiple(&render(NODE, Secrets::Generated).expect("renders")).expect("YAML");
        let other = &again.iter().find(|d| d["metadata"]["name"] == "marche-db").expect("db secret")["stringData"];
        assert_ne!(other["PGPASSWORD"], db["PGPASSWORD"], "each rendering generates its own");
    }

    #[test]
    fn renders_a_reusable_solution() {
        let solution = "apiVersion: mediana.dev/v1alpha1\nkind: ReusableSolution\nmetadata: {name: sito}\nspec:\n  publiccode: {inline: x}\n  administration: {ipaCode: c_h211}\n  dataClassification: Ordinary\n  database: {}\n  components: [{name: web, image: nginx}]\n";
        let documents: Vec<Value> =
            serde_saphyr::from_multiple(&render(solution, Secrets::Placeholders).expect("renders")).expect("YAML");
        let names: Vec<&str> = documents.iter().filter_map(|d| d["metadata"]["name"].as_str()).collect();
        assert!(
            names.contains(&"sito-web") && names.contains(&"sito-postgres") && names.contains(&"sito-db"),
            "{names:?}"
        );
        assert!(documents.iter().all(|d| d["metadata"]["namespace"] == "default"));
    }

    #[test]
    fn renders_a_harvest_job_with_its_target_node_and_says_when_it_is_missing() {
        let job = "---\napiVersion: mediana.dev/v1alpha1\nkind: HarvestJob\nmetadata: {name: comune-recanati, namespace: opendata}\nspec:\n  source: {type: ckan, url: 'https://dati.comune.recanati.mc.it'}\n  target: {catalogNode: marche}\n  publisher: {ipaCode: c_h211, name: Comune di Recanati, organization: comune-di-recanati}\n  schedule: '0 3 * * *'\n";
        let documents: Vec<Value> =
            serde_saphyr::from_multiple(&render(&format!("{NODE}{job}"), Secrets::Placeholders).expect("renders"))
                .expect("YAML");
        let kinds: Vec<String> = documents
            .iter()
            .map(|d| format!("{}/{}", d["kind"].as_str().unwrap_or(""), d["metadata"]["name"].as_str().unwrap_or("")))
            .collect();
        for child in [
            "CronJob/comune-recanati",
            "ServiceAccount/comune-recanati-harvester",
            "RoleBinding/comune-recanati-harvester",
        ] {
            assert!(kinds.contains(&child.to_owned()), "{child} in {kinds:?}");
        }
        let alone = render(job, Secrets::Placeholders).expect("renders");
        assert_eq!(
            alone,
            "# HarvestJob opendata/comune-recanati: not rendered, its CatalogNode opendata/marche is not in the file\n"
        );
    }

    #[test]
    fn a_file_of_a_regions_harvest_jobs_renders_whole() {
        let jobs: String = (0..1_500)
            .map(|i| format!("---\nkind: HarvestJob\napiVersion: mediana.dev/v1alpha1\nmetadata: {{name: comune-{i}, namespace: opendata}}\nspec:\n  source: {{type: ckan, url: 'https://dati.comune-{i}.it'}}\n  target: {{catalogNode: marche}}\n  publisher: {{ipaCode: c_{i}, name: Comune {i}, organization: comune-{i}}}\n  schedule: '0 3 * * *'\n"))
            .collect();
        let text = render(&format!("{NODE}{jobs}"), Secrets::Placeholders)
            .expect("renders past the parser's default 1,024 documents");
        assert_eq!(text.matches("\nkind: CronJob\n").count(), 1_500);
    }

    #[test]
    fn invalid_documents_are_named() {
        let err =
            render("kind: CatalogNode\nmetadata:\n  name: broken\nspec:\n  replicas: lots\n", Secrets::Placeholders)
                .expect_err("invalid");
        let text = err.to_string();
        assert!(text.contains("document 1 (CatalogNode broken): spec.replicas: invalid type"), "{text}");
        assert!(matches!(render("a: [unclosed", Secrets::Placeholders), Err(RenderError::Yaml(_))));
    }
}
