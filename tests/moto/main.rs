//! The provider's Organizations and STS code against moto's server, a third-party
//! implementation of both services, so the emulator is not the only peer the SDK calls are
//! proven against. moto has no Account Factory, so Service Catalog is not covered here.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use terraform_provider_kore::aws::organizations::{self, CloseOutcome};
use terraform_provider_kore::aws::sts;
use terraform_provider_kore::plugin::{Context, Provider, Value};
use terraform_provider_kore::provider::KoreProvider;

/// A moto server on a free loopback port, stopped on drop.
struct MotoServer {
    child: Child,
    url: String,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    assert!(
        path.exists(),
        "{} is missing; run `make tools` first",
        path.display()
    );
    path
}

fn start_moto() -> MotoServer {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(moto_binary())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "moto_server did not listen on port {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    MotoServer {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

fn test_environment() {
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::remove_var("AWS_PROFILE");
    std::env::set_var("AWS_CONFIG_FILE", "/dev/null");
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
}

/// Configures the real provider block against moto and returns its clients.
async fn configure(moto: &MotoServer, assume_role: Option<&str>) -> KoreProvider {
    test_environment();
    let provider = KoreProvider::new();
    let mut config = Value::Null;
    config.set("region", "us-east-1".into());
    let mut endpoints = Value::Null;
    for service in ["organizations", "sts", "servicecatalog", "account"] {
        endpoints.set(service, moto.url.clone().into());
    }
    config.set("endpoints", endpoints);
    if let Some(role_arn) = assume_role {
        let mut block = Value::Null;
        block.set("role_arn", role_arn.into());
        block.set("session_name", "kore-test".into());
        config.set("assume_role", block);
    }
    let diagnostics = provider.configure(&Context::default(), &config).await;
    assert!(!diagnostics.has_errors(), "{diagnostics:?}");
    provider
}

#[tokio::test(flavor = "multi_thread")]
async fn organizations_calls_against_moto() {
    let moto = start_moto();
    let provider = configure(&moto, None).await;
    let connection = provider.data().connection().await.expect("configured");
    let client = &connection.clients.organizations;

    client
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("create organization");
    let info = organizations::describe_organization(client)
        .await
        .expect("describe organization");
    assert_eq!(info.master_account_id.len(), 12);
    assert!(info.id.starts_with("o-"), "{info:?}");

    let root = organizations::root_id(client).await.expect("root");
    assert!(root.starts_with("r-"), "{root}");
    let workloads = client
        .create_organizational_unit()
        .parent_id(&root)
        .name("Workloads")
        .send()
        .await
        .expect("OU");
    let workloads_id = workloads
        .organizational_unit()
        .and_then(|u| u.id())
        .expect("id")
        .to_string();
    let nested = client
        .create_organizational_unit()
        .parent_id(&workloads_id)
        .name("Production")
        .send()
        .await
        .expect("OU");
    let nested_id = nested
        .organizational_unit()
        .and_then(|u| u.id())
        .expect("id")
        .to_string();
    client
        .create_organizational_unit()
        .parent_id(&root)
        .name("Production")
        .send()
        .await
        .expect("OU");

    let tree = organizations::unit_tree(client, &root).await.expect("tree");
    let paths: Vec<&str> = tree.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(paths, ["Production", "Workloads", "Workloads/Production"]);
    let nested_node = tree
        .iter()
        .find(|u| u.path == "Workloads/Production")
        .expect("nested");
    assert_eq!(nested_node.id, nested_id);
    assert_eq!(nested_node.parent_id, workloads_id);

    let created = client
        .create_account()
        .account_name("kore-alpha-notprod")
        .email("cloud-team+kore-alpha-notprod@example.com")
        .send()
        .await
        .expect("create account");
    let request_id = created
        .create_account_status()
        .and_then(|s| s.id())
        .expect("status id")
        .to_string();
    let status = client
        .describe_create_account_status()
        .create_account_request_id(&request_id)
        .send()
        .await
        .expect("status");
    let account_id = status
        .create_account_status()
        .and_then(|s| s.account_id())
        .expect("account id")
        .to_string();

    assert_eq!(
        organizations::parent_of(client, &account_id)
            .await
            .expect("parent"),
        root
    );
    organizations::move_account(client, &account_id, &root, &nested_id)
        .await
        .expect("move");
    assert_eq!(
        organizations::parent_of(client, &account_id)
            .await
            .expect("parent"),
        nested_id
    );
    let in_nested = organizations::accounts_for_parent(client, &nested_id)
        .await
        .expect("accounts for parent");
    assert_eq!(in_nested.len(), 1);
    assert_eq!(
        in_nested[0].email,
        "cloud-team+kore-alpha-notprod@example.com"
    );
    assert_eq!(in_nested[0].state, "ACTIVE");

    let all = organizations::list_accounts(client)
        .await
        .expect("list accounts");
    assert!(all.iter().any(|a| a.id == account_id), "{all:?}");
    let described = organizations::describe_account(client, &account_id)
        .await
        .expect("describe")
        .expect("found");
    assert_eq!(described.name, "kore-alpha-notprod");
    let missing = organizations::describe_account(client, "999999999999")
        .await
        .expect("describe missing");
    assert_eq!(missing, None);

    let tags = std::collections::BTreeMap::from([
        ("kore:installation".to_string(), "acme".to_string()),
        ("kore:team".to_string(), "payments".to_string()),
    ]);
    organizations::tag_resource(client, &account_id, &tags)
        .await
        .expect("tag account");
    organizations::tag_resource(client, &nested_id, &tags)
        .await
        .expect("tag OU");
    assert_eq!(
        organizations::list_tags(client, &account_id)
            .await
            .expect("tags"),
        tags
    );
    organizations::untag_resource(client, &account_id, &["kore:team".to_string()])
        .await
        .expect("untag");
    let left = organizations::list_tags(client, &account_id)
        .await
        .expect("tags");
    assert_eq!(left.keys().collect::<Vec<_>>(), ["kore:installation"]);
    assert_eq!(
        organizations::list_tags(client, &nested_id)
            .await
            .expect("OU tags"),
        tags
    );

    assert_eq!(
        organizations::close_account(client, &account_id)
            .await
            .expect("close"),
        CloseOutcome::Closing
    );
    let closed = organizations::describe_account(client, &account_id)
        .await
        .expect("describe")
        .expect("found");
    assert!(closed.is_closed(), "{closed:?}");
    assert_eq!(
        organizations::close_account(client, &account_id)
            .await
            .expect("close again"),
        CloseOutcome::AlreadyClosed
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sts_identity_and_assume_role() {
    let moto = start_moto();
    let provider = configure(&moto, None).await;
    let connection = provider.data().connection().await.expect("configured");
    let identity = sts::caller_identity(&connection.clients.sts)
        .await
        .expect("caller identity");
    assert_eq!(identity.account_id.len(), 12, "{identity:?}");

    let role = "arn:aws:iam::123456789012:role/KoreAccountFactory";
    let assumed = configure(&moto, Some(role)).await;
    let connection = assumed.data().connection().await.expect("configured");
    let identity = sts::caller_identity(&connection.clients.sts)
        .await
        .expect("caller identity");
    assert!(
        identity
            .arn
            .contains("assumed-role/KoreAccountFactory/kore-test"),
        "the assumed role's session should make the call: {identity:?}"
    );
}
