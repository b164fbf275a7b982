//! A person's view of a portal: Debian's Chromium, headless, driven through chromedriver
//! (WebDriver, fantoccini), logs in as the sysadmin and reads the rendered pages. The browser
//! resolves the portal's host name to its Service and nothing else, so no request leaves the
//! node's network; the screenshots are saved under the test's temporary directory.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use fantoccini::{Client as Browser, ClientBuilder, Locator};
use k8s_openapi::api::core::v1::Service;
use kube::{Api, Client};
use mediana::api::CatalogNode;
use serde_json::json;

use super::catalog_node::sysadmin_password;
use super::common::{self, eventually};

/// chromedriver and its Chromium for one test, stopped with it, even when the test fails
/// before it closes the session (Chromium would outlive its driver), and its profile removed.
struct Driver {
    process: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        // Its processes name the profile on their command lines (`--user-data-dir=…`).
        let browser = format!("user-data-dir={}", self.profile.display());
        let _ = Command::new("pkill").args(["-KILL", "-f", &browser]).status();
        // A closing Chromium still writes its profile: remove it once the last one is gone.
        let running = || Command::new("pgrep").args(["-f", &browser]).status().is_ok_and(|s| s.success());
        for _ in 0..50 {
            if !running() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Where the screenshots go: `make test` keeps them beside cargo's other outputs.
fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshots' directory");
    dir
}

/// Headless Chromium that reaches `hostname` at `address` only, and no other name.
async fn browser(hostname: &str, address: &str) -> (Driver, Browser) {
    let port = common::free_port();
    let process = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian's chromium-driver) on PATH");
    let profile = std::env::temp_dir().join(common::unique_name("chromium"));
    let driver = Driver { process, profile: profile.clone() };
    let status = format!("http://127.0.0.1:{port}/status");
    eventually("chromedriver to answer", 30, || async {
        reqwest::get(&status).await.ok()?.status().is_success().then_some(())
    })
    .await;
    let args = [
        "--headless=new".to_owned(),
        // As root in the tests' container: Chromium's own sandbox needs user namespaces.
        "--no-sandbox".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--window-size=1280,1400".to_owned(),
        format!("--user-data-dir={}", profile.display()),
        format!("--host-resolver-rules=MAP {hostname} {address}, MAP * ~NOTFOUND"),
        // Nothing of its own: no updates, sync, metrics or first-run pages.
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--no-first-run".to_owned(),
        "--lang=it-IT".to_owned(),
    ];
    let capabilities = json!({"goog:chromeOptions": {"args": args}});
    let serde_json::Value::Object(capabilities) = capabilities else { unreachable!("an object") };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let browser = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    (driver, browser)
}

/// The rendered text of the page's `css` element.
async fn text(browser: &Browser, css: &str) -> String {
    let element = browser.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}"));
    element.text().await.unwrap_or_else(|err| panic!("the text of {css}: {err}"))
}

async fn screenshot(browser: &Browser, name: &str) {
    let png = browser.screenshot().await.expect("a screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("save the screenshot");
}

/// The regional portal as its open-data manager sees it once the municipalities are
/// harvested: logged in as the sysadmin, the harvested `titles` on the dataset list with the
/// organizations and themes of the facets, and `dataset`'s page showing its DCAT-AP_IT
/// fields (`fields`: label and value as rendered).
pub async fn a_person_sees_the_harvested_datasets(
    client: &Client,
    node: &CatalogNode,
    titles: &[&str],
    facets: &[&str],
    (dataset, fields): (&str, &[&str]),
) {
    let ns = node.metadata.namespace.as_deref().expect("a namespace");
    let name = node.metadata.name.as_deref().expect("a name");
    let service =
        Api::<Service>::namespaced(client.clone(), ns).get(&format!("{name}-ckan")).await.expect("the Service");
    let address = service.spec.and_then(|s| s.cluster_ip).expect("a cluster IP");
    let (_driver, browser) = browser(&node.spec.hostname, &address).await;
    let site = format!("http://{}", node.spec.hostname);

    browser.goto(&format!("{site}/user/login")).await.expect("the login page");
    let password = sysadmin_password(client, node).await;
    let login = browser.find(Locator::Id("field-login")).await.expect("the login field");
    login.send_keys(&node.spec.sysadmin.name).await.expect("typed");
    let secret = browser.find(Locator::Id("field-password")).await.expect("the password field");
    secret.send_keys(&password).await.expect("typed");
    browser
        .find(Locator::Css("form .form-actions button[type=submit]"))
        .await
        .expect("Login")
        .click()
        .await
        .expect("clicked");
    eventually("the portal to show the logged-in sysadmin", 60, || async {
        let page = browser.source().await.ok()?;
        page.contains("/user/_logout").then_some(())
    })
    .await;

    browser.goto(&format!("{site}/dataset/")).await.expect("the dataset list");
    let list = text(&browser, "ul.dataset-list").await;
    for title in titles {
        assert!(list.contains(title), "{title} is listed:\n{list}");
    }
    let sidebar = text(&browser, "aside").await;
    for facet in facets {
        assert!(sidebar.contains(facet), "the facets show {facet}:\n{sidebar}");
    }
    screenshot(&browser, "regional-portal-datasets").await;

    browser.goto(&format!("{site}/dataset/{dataset}")).await.expect("a dataset's page");
    let page = text(&browser, "body").await;
    for field in fields {
        assert!(page.contains(field), "the dataset's page shows {field}:\n{page}");
    }
    screenshot(&browser, "regional-portal-dataset").await;
    browser.close().await.expect("the session closed");
}
