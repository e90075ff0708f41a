//! Rate limits shared through Redis (the machine's, on 127.0.0.1:6379, with
//! a key prefix per test; or one started here when a test needs to stop
//! it), and the budget every answer shows.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::binary::Binary;
use crate::cluster::free_port;
use crate::support::{TestApp, TestDatabase, error_codes};

/// 1 + 20 x (nodes 1 + name 1): people's default page of 20 names.
const COSTS_41: &str = "{ people { nodes { name } } }";
const REDIS: &str = "redis://127.0.0.1:6379";

fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("talentgraph-test:{test}:{}:{nanos}:", std::process::id())
}

async fn limited(redis: Option<(&str, &str)>) -> TestApp {
    let redis = redis.map(|(url, prefix)| (url.to_owned(), prefix.to_owned()));
    TestApp::spawn_with(move |config| {
        config.http.rate_limit_capacity = 100;
        // Slow enough that no test run refills a bucket noticeably.
        config.http.rate_limit_refill_per_second = 1;
        if let Some((url, prefix)) = redis {
            config.scale.redis_url = Some(url);
            config.scale.redis_key_prefix = prefix;
        }
    })
    .await
}

async fn send(client: &reqwest::Client, base: &str, query: &str) -> reqwest::Response {
    client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("reachable")
}

fn header(response: &reqwest::Response, name: &str) -> u64 {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {name} header"))
}

/// What a client sees of its budget over three requests of cost 41 in a
/// bucket of 100 that refills a point a second.
async fn budget_seen(app: &TestApp) {
    let client = &app.client;
    let first = send(client, &app.address, COSTS_41).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(header(&first, "ratelimit-limit"), 100);
    assert_eq!(header(&first, "ratelimit-remaining"), 59);
    // 41 points to regain at one a second.
    assert!((40..=42).contains(&header(&first, "ratelimit-reset")));
    let body: Value = first.json().await.expect("JSON");
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requested"], 41, "{body}");
    assert_eq!(cost["remaining"], 59, "{body}");
    let reset_at = chrono::DateTime::parse_from_rfc3339(cost["resetAt"].as_str().expect("a time"))
        .expect("RFC 3339");
    let from_now = reset_at.signed_duration_since(chrono::Utc::now());
    assert!(
        (39..=42).contains(&from_now.num_seconds()),
        "{from_now:?} {body}"
    );

    let second: Value = send(client, &app.address, COSTS_41)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(second["extensions"]["cost"]["remaining"], 18, "{second}");

    let refused = send(client, &app.address, COSTS_41).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&refused, "ratelimit-remaining"), 18);
    assert!((23..=24).contains(&header(&refused, "retry-after")));
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(error_codes(&body), ["RATE_LIMITED"]);
    assert_eq!(body["extensions"]["cost"]["requested"], 41, "{body}");
    assert_eq!(body["extensions"]["cost"]["remaining"], 18, "{body}");

    // A request that never executes shows its charge too.
    let invalid = send(client, &app.address, "{ nobody }").await;
    assert_eq!(header(&invalid, "ratelimit-remaining"), 17);
    let body: Value = invalid.json().await.expect("JSON");
    assert_eq!(body["extensions"]["cost"]["requested"], 1, "{body}");
}

#[tokio::test]
async fn every_answer_shows_its_cost_and_the_budget_left_the_same_with_local_buckets_or_redis() {
    budget_seen(&limited(None).await).await;
    let prefix = unique_prefix("budget");
    budget_seen(&limited(Some((REDIS, &prefix))).await).await;
}

#[tokio::test]
async fn without_a_limit_an_answer_still_says_what_it_cost() {
    let app = TestApp::spawn_with(|config| config.http.rate_limit_capacity = 0).await;
    let response = send(&app.client, &app.address, COSTS_41).await;
    assert!(response.headers().get("ratelimit-remaining").is_none());
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body["extensions"]["cost"],
        json!({ "requested": 41, "remaining": null, "resetAt": null })
    );
}

/// Requests of cost 41 alternating between `bases` until one is refused:
/// how many were answered.
async fn answered_until_refused(bases: &[&str]) -> usize {
    let client = reqwest::Client::new();
    for answered in 0..20 {
        let base = bases[answered % bases.len()];
        let response = send(&client, base, COSTS_41).await;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => return answered,
            other => panic!("{other}: {:?}", response.text().await),
        }
    }
    panic!("never refused");
}

/// A second copy of the service, as its own process, on a database of its own.
async fn second_process(database: &TestDatabase, redis: (&str, &str)) -> Binary {
    let binary = Binary::serve(&[
        ("DATABASE_URL", &database.url()),
        ("TALENTGRAPH_RATE_LIMIT_CAPACITY", "100"),
        ("TALENTGRAPH_RATE_LIMIT_REFILL", "1"),
        ("TALENTGRAPH_REDIS_URL", redis.0),
        ("TALENTGRAPH_REDIS_KEY_PREFIX", redis.1),
    ]);
    binary.wait_until_ready(&reqwest::Client::new()).await;
    binary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_sharing_redis_refuse_a_client_at_the_budget_one_process_would() {
    // One process: 41 + 41 fit in 100, the third does not.
    let one = limited(Some((REDIS, &unique_prefix("one")))).await;
    assert_eq!(answered_until_refused(&[&one.address]).await, 2);

    // Two processes, each with its own buckets: twice the budget.
    let database = TestDatabase::create().await;
    let apart = limited(None).await;
    let other = Binary::serve(&[
        ("DATABASE_URL", &database.url()),
        ("TALENTGRAPH_RATE_LIMIT_CAPACITY", "100"),
        ("TALENTGRAPH_RATE_LIMIT_REFILL", "1"),
    ]);
    other.wait_until_ready(&reqwest::Client::new()).await;
    assert_eq!(
        answered_until_refused(&[&apart.address, &other.address]).await,
        4
    );
    drop(other);

    // Two processes sharing Redis: the budget of one.
    let prefix = unique_prefix("two");
    let first = limited(Some((REDIS, &prefix))).await;
    let second = second_process(&database, (REDIS, &prefix)).await;
    assert_eq!(
        answered_until_refused(&[&first.address, &second.address]).await,
        2
    );
}

/// A Redis server of this test's own, on a free port, that it can stop.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (apt-get install redis-server)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        OwnRedis {
            port,
            child: Some(child),
        }
    }

    fn keys(&self) -> String {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "--scan"])
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find(|line| line.starts_with(name) && line[name.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_a_process_falls_back_to_its_own_buckets_says_so_once_and_recovers() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let database = TestDatabase::create().await;
    let binary = Binary::serve(&[
        ("DATABASE_URL", &database.url()),
        ("TALENTGRAPH_RATE_LIMIT_CAPACITY", "100"),
        ("TALENTGRAPH_RATE_LIMIT_REFILL", "1"),
        ("TALENTGRAPH_REDIS_URL", &url),
    ]);
    let client = reqwest::Client::new();
    binary.wait_until_ready(&client).await;

    // Redis is down: the local bucket limits the client all the same.
    assert_eq!(answered_until_refused(&[&binary.address]).await, 2);
    let metrics = |client: reqwest::Client, url: String| async move {
        client
            .get(url)
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    };
    let down = metrics(client.clone(), binary.url("/metrics")).await;
    assert!(
        sample(&down, "talentgraph_rate_limit_redis_fallbacks_total") >= 3.0,
        "{down}"
    );
    assert_eq!(sample(&down, "talentgraph_rate_limit_redis_up"), 0.0);
    let said = |binary: &Binary, what: &str| {
        binary
            .log_lines()
            .iter()
            .filter(|line| line.contains(what))
            .count()
    };
    assert_eq!(
        said(&binary, "Redis cannot be reached"),
        1,
        "{}",
        binary.log()
    );

    // Redis comes up: within a retry interval the buckets are in it again.
    let redis = tokio::task::block_in_place(|| OwnRedis::start(port));
    let mut recovered = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        send(&client, &binary.address, "{ __typename }").await;
        if sample(
            &metrics(client.clone(), binary.url("/metrics")).await,
            "talentgraph_rate_limit_redis_up",
        ) == 1.0
        {
            recovered = true;
            break;
        }
    }
    assert!(recovered, "{}", binary.log());
    assert!(
        redis.keys().contains("talentgraph:rate:address:127.0.0.1"),
        "{}",
        redis.keys()
    );
    assert_eq!(said(&binary, "Redis answers again"), 1, "{}", binary.log());
}
