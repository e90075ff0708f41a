//! `talentgraph seed`: the article's data set, loaded idempotently.

use diesel_async::RunQueryDsl;
use talentgraph::seed::{SeedReport, seed};

use crate::support::TestApp;

async fn table_sizes(app: &TestApp) -> Vec<i64> {
    let mut sizes = Vec::new();
    for table in [
        "organizations",
        "people",
        "employments",
        "publications",
        "authorships",
        "sources",
        "employment_sources",
        "authorship_sources",
    ] {
        sizes.push(app.rows_in(table).await);
    }
    sizes
}

#[tokio::test]
async fn seeding_twice_changes_nothing() {
    let app = TestApp::spawn().await;
    let first = seed(&mut app.conn().await).await.expect("first seed");
    assert_eq!(
        first,
        SeedReport {
            organizations: 11,
            people: 17,
            employments: 30,
            publications: 1,
            authorships: 14,
            sources: 2,
            attestations: 14
        }
    );
    let sizes = table_sizes(&app).await;
    let second = seed(&mut app.conn().await).await.expect("second seed");
    assert_eq!(second, SeedReport::default());
    assert_eq!(table_sizes(&app).await, sizes);
}

#[tokio::test]
async fn seeding_keeps_edits_made_since() {
    let app = TestApp::spawn_seeded().await;
    app.sql("UPDATE people SET bio = 'Edited.' WHERE slug = 'hugo-touvron'")
        .await;
    seed(&mut app.conn().await).await.expect("seed again");
    let data = app
        .data(r#"{ person(slug: "hugo-touvron") { bio } }"#)
        .await;
    assert_eq!(data["person"]["bio"], "Edited.");
}

#[tokio::test]
async fn the_binary_seeds_and_migrates_a_database_it_creates() {
    let app = TestApp::spawn().await;
    // A database name of its own, which the binary must create.
    let app_url = talentgraph::config::DatabaseUrl::from(app.database_url.as_str());
    let (_, name) = talentgraph::db::maintenance_url(&app_url).expect("a database URL");
    let url = talentgraph::db::with_database_name(&app_url, &format!("{name}_cli"))
        .expect("a database URL");
    let run = |command: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_talentgraph"))
            .arg(command)
            .env("DATABASE_URL", url.expose())
            .output()
            .expect("the binary runs")
    };
    let seeded = run("seed");
    let reseeded = run("seed");
    let cleanup = async {
        let (maintenance, name) = talentgraph::db::maintenance_url(&url).expect("a database URL");
        let mut conn = crate::support::establish(maintenance.expose())
            .await
            .expect("connect");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .expect("drop the CLI's database");
    };
    cleanup.await;
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    assert!(
        reseeded.status.success(),
        "{}",
        String::from_utf8_lossy(&reseeded.stderr)
    );
    let log = String::from_utf8_lossy(&seeded.stderr);
    assert!(log.contains("created database"), "{log}");
    assert!(log.contains("people: 17"), "{log}");
    assert!(String::from_utf8_lossy(&reseeded.stderr).contains("people: 0"));
}
