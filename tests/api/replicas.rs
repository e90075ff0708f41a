//! Read replicas, with PostgreSQL's own tools: a primary of its own and a
//! hot standby made from it with `pg_basebackup`, on free ports, removed
//! when the test ends.
//!
//! Where a read ran is seen two ways: the standby's own `xact_commit`, and
//! what the read returns while the standby's replay is paused
//! (`pg_wal_replay_pause()`) and the primary has moved on.

use std::time::Duration;

use serde_json::{Value, json};
use talentgraph::config::DatabaseUrl;
use talentgraph::server::Application;

use crate::cluster::Cluster;
use crate::support::test_config;

const MEET_GUILLAUME: &str = r#"{ person(slug: "guillaume-lample") { name } }"#;

/// A primary with the article's data set, a streaming standby, and the app
/// reading from the standby.
struct Deployment {
    primary: Cluster,
    standby: Cluster,
    address: String,
    client: reqwest::Client,
    token: String,
}

async fn deploy(max_lag: Duration) -> Deployment {
    let primary = Cluster::init();
    tokio::task::block_in_place(|| primary.start());
    let url = DatabaseUrl::from(primary.url("talentgraph"));
    talentgraph::db::create_database_if_missing(&url)
        .await
        .expect("create the database");
    talentgraph::db::run_migrations(&url)
        .await
        .expect("migrate");
    let mut conn = crate::support::establish(url.expose())
        .await
        .expect("connect to the primary");
    talentgraph::seed::seed(&mut conn).await.expect("seed");
    let token = talentgraph::auth::new_secret().expect("randomness");
    talentgraph::db::tokens::insert(
        &mut conn,
        "replica test",
        "editor",
        &talentgraph::auth::hash(&token),
    )
    .await
    .expect("a token");
    let standby = tokio::task::block_in_place(|| {
        let standby = Cluster::standby_of(&primary);
        standby.start();
        // A standby knows its lag only from the time of the last commit it
        // replayed (the app counts it as lagging until then): one commit
        // made after it started, and replayed, gives it one.
        primary.psql("talentgraph", "ANALYZE people");
        let replayed = (0..300).any(|_| {
            let done = standby.psql(
                "postgres",
                "SELECT pg_last_xact_replay_timestamp() IS NOT NULL",
            ) == "t";
            if !done {
                std::thread::sleep(Duration::from_millis(100));
            }
            done
        });
        assert!(replayed, "the standby replayed no commit within 30 s");
        standby
    });

    let mut config = test_config(url.expose());
    config.scale.read_database_urls = vec![DatabaseUrl::from(standby.url("talentgraph"))];
    config.scale.replica_check_interval = Duration::from_millis(100);
    config.scale.max_replica_lag = max_lag;
    let app = Application::build(&config).expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port);
    tokio::spawn(app.run());
    let deployment = Deployment {
        primary,
        standby,
        address,
        client: reqwest::Client::new(),
        token,
    };
    deployment
        .until("the standby is in use", |metrics| {
            metric(metrics, "talentgraph_db_replica_usable") == 1.0
        })
        .await;
    deployment
}

impl Deployment {
    async fn post(&self, query: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .bearer_auth(&self.token)
            .json(&json!({ "query": query }));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("the app answers")
    }

    async fn read(&self, query: &str, headers: &[(&str, &str)]) -> Value {
        let body: Value = self.post(query, headers).await.json().await.expect("JSON");
        assert!(body.get("errors").is_none(), "{body:#}");
        body
    }

    async fn metrics(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.address))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }

    /// Polls `/metrics` (bounded) until `check` holds.
    async fn until(&self, what: &str, check: impl Fn(&str) -> bool) {
        for _ in 0..150 {
            if check(&self.metrics().await) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never happened: {what}\n{}", self.metrics().await);
    }

    fn commits(cluster: &Cluster) -> i64 {
        cluster
            .psql(
                "postgres",
                "SELECT xact_commit FROM pg_stat_database WHERE datname = 'talentgraph'",
            )
            .parse()
            .expect("a count")
    }

    /// Renames Guillaume Lample on the primary, by hand.
    fn rename_on_primary(&self, name: &str) {
        self.primary.psql(
            "talentgraph",
            &format!("UPDATE people SET name = '{name}' WHERE slug = 'guillaume-lample'"),
        );
    }
}

/// The sum of a metric's samples (over its labels).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn name_of(body: &Value) -> &str {
    body["data"]["person"]["name"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_run_on_the_standby_and_mutations_on_the_primary() {
    let deployment = deploy(Duration::from_secs(60)).await;

    // Counted by the standby itself (its statistics arrive within seconds).
    let before = Deployment::commits(&deployment.standby);
    for _ in 0..30 {
        assert_eq!(
            name_of(&deployment.read(MEET_GUILLAUME, &[]).await),
            "Guillaume Lample"
        );
    }
    for _ in 0..150 {
        if Deployment::commits(&deployment.standby) >= before + 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let on_standby = Deployment::commits(&deployment.standby) - before;
    assert!(on_standby >= 30, "the standby committed {on_standby}");

    // With its replay paused, the standby keeps the old name while the
    // primary has the new one: every read answers the standby's.
    tokio::task::block_in_place(|| {
        deployment
            .standby
            .psql("postgres", "SELECT pg_wal_replay_pause()");
        deployment.rename_on_primary("G. Lample");
    });
    for _ in 0..20 {
        assert_eq!(
            name_of(&deployment.read(MEET_GUILLAUME, &[]).await),
            "Guillaume Lample",
            "a read went to the primary"
        );
    }

    // A mutation runs on the primary (a standby would refuse any write).
    let created = deployment
        .read(
            r#"mutation { createPerson(input: { slug: "ada-lovelace", name: "Ada Lovelace" }) { person { name } } }"#,
            &[],
        )
        .await;
    assert_eq!(
        created["data"]["createPerson"]["person"]["name"],
        "Ada Lovelace"
    );
    let stored = tokio::task::block_in_place(|| {
        deployment.primary.psql(
            "talentgraph",
            "SELECT count(*) FROM people WHERE slug = 'ada-lovelace'",
        )
    });
    assert_eq!(stored, "1");
    let metrics = deployment.metrics().await;
    assert!(
        metric(&metrics, "talentgraph_db_reads_total{target=\"replica\"}") >= 50.0,
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "talentgraph_db_reads_total{target=\"primary\"}"),
        0.0,
        "{metrics}"
    );
    assert_eq!(metric(&metrics, "talentgraph_db_replica_up"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_that_presents_its_write_position_sees_its_write_while_the_standby_is_paused() {
    let deployment = deploy(Duration::from_secs(60)).await;
    tokio::task::block_in_place(|| {
        deployment
            .standby
            .psql("postgres", "SELECT pg_wal_replay_pause()")
    });

    let response = deployment
        .post(
            r#"mutation { createPerson(input: { slug: "new-hire", name: "New Hire" }) { person { name } } }"#,
            &[],
        )
        .await;
    let lsn = response
        .headers()
        .get("talentgraph-lsn")
        .and_then(|v| v.to_str().ok())
        .expect("a mutation's answer carries its write position")
        .to_owned();
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["extensions"]["lsn"], lsn.as_str(), "{body:#}");
    assert_eq!(body["data"]["createPerson"]["person"]["name"], "New Hire");

    const NEW_HIRE: &str = r#"{ person(slug: "new-hire") { name } }"#;
    // Without the position: the paused standby answers, without the write.
    let stale = deployment.read(NEW_HIRE, &[]).await;
    assert_eq!(stale["data"]["person"], Value::Null, "{stale:#}");
    // With it: never older than the write.
    for _ in 0..5 {
        let fresh = deployment
            .read(NEW_HIRE, &[("TalentGraph-Lsn", &lsn)])
            .await;
        assert_eq!(name_of(&fresh), "New Hire", "{fresh:#}");
    }

    // Once the standby has replayed past it, the standby serves such reads.
    tokio::task::block_in_place(|| {
        deployment
            .standby
            .psql("postgres", "SELECT pg_wal_replay_resume()")
    });
    let replica_reads =
        |metrics: &str| metric(metrics, "talentgraph_db_reads_total{target=\"replica\"}");
    let mut served_by_standby = false;
    for _ in 0..100 {
        let before = replica_reads(&deployment.metrics().await);
        let fresh = deployment
            .read(NEW_HIRE, &[("TalentGraph-Lsn", &lsn)])
            .await;
        assert_eq!(name_of(&fresh), "New Hire", "{fresh:#}");
        if replica_reads(&deployment.metrics().await) > before {
            served_by_standby = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served_by_standby, "{}", deployment.metrics().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_standby_sends_reads_to_the_primary_and_no_request_fails() {
    let deployment = deploy(Duration::from_secs(60)).await;
    let mut answers = Vec::new();
    for i in 0..120 {
        if i == 40 {
            tokio::task::block_in_place(|| deployment.standby.stop());
        }
        let response = deployment.post(MEET_GUILLAUME, &[]).await;
        answers.push((response.status(), response.json::<Value>().await));
    }
    for (status, body) in &answers {
        let body = body.as_ref().expect("JSON");
        assert!(status.is_success(), "{status} {body:#}");
        assert!(body.get("errors").is_none(), "{body:#}");
        assert_eq!(name_of(body), "Guillaume Lample");
    }
    let metrics = deployment.metrics().await;
    assert_eq!(
        metric(&metrics, "talentgraph_db_replica_up"),
        0.0,
        "{metrics}"
    );
    assert!(
        metric(&metrics, "talentgraph_db_reads_total{target=\"primary\"}") >= 70.0,
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_that_lags_past_the_limit_is_skipped_until_it_catches_up() {
    let deployment = deploy(Duration::from_millis(300)).await;
    tokio::task::block_in_place(|| {
        deployment
            .standby
            .psql("postgres", "SELECT pg_wal_replay_pause()");
        deployment.rename_on_primary("G. Lample");
    });
    deployment
        .until("the paused standby counts as lagging", |metrics| {
            metric(metrics, "talentgraph_db_replica_usable") == 0.0
                && metric(metrics, "talentgraph_db_replica_lag_ms") > 300.0
                && metric(metrics, "talentgraph_db_replica_up") == 1.0
        })
        .await;
    for _ in 0..5 {
        assert_eq!(
            name_of(&deployment.read(MEET_GUILLAUME, &[]).await),
            "G. Lample"
        );
    }
    tokio::task::block_in_place(|| {
        deployment
            .standby
            .psql("postgres", "SELECT pg_wal_replay_resume()")
    });
    deployment
        .until("the standby is used again", |metrics| {
            metric(metrics, "talentgraph_db_replica_usable") == 1.0
        })
        .await;
}
