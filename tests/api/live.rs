//! Live: subscriptions over WebSocket (`graphql-transport-ws`) and the
//! change feed, against the real app and real PostgreSQL. Events come from
//! the database, so writes are made every way a user makes them: the API of
//! another process, `talentgraph import`, and plain SQL.

use std::process::Command;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::binary::Binary;
use crate::cluster::Cluster;
use crate::support::{TestApp, error_codes};

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A bound on every wait, so a missing event fails the test instead of
/// hanging it (never a timing assertion: events normally take milliseconds).
const PATIENCE: Duration = Duration::from_secs(20);

/// A `graphql-transport-ws` client, as small as the protocol.
pub struct Ws {
    stream: Stream,
}

fn ws_url(address: &str) -> String {
    format!("{}/graphql", address.replacen("http://", "ws://", 1))
}

async fn open(address: &str, origin: Option<&str>) -> Result<Stream, tungstenite::Error> {
    let mut request = ws_url(address).into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("Origin", HeaderValue::from_str(origin).expect("an origin"));
    }
    let (stream, response) = tokio_tungstenite::connect_async(request).await?;
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("graphql-transport-ws")
    );
    Ok(stream)
}

impl Ws {
    /// Connects and initialises with `payload` (a token, or `{}`).
    pub async fn connect(address: &str, payload: Value) -> Self {
        let mut ws = Ws {
            stream: open(address, None).await.expect("the socket opens"),
        };
        ws.send(json!({"type": "connection_init", "payload": payload}))
            .await;
        let ack = ws.message().await.expect("an answer to connection_init");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws
    }

    async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    /// The next protocol message; `Err` with the close frame's code and
    /// reason when the server closed instead.
    pub async fn message(&mut self) -> Result<Value, (u16, String)> {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("a message within the patience");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Ok(serde_json::from_str(&text).expect("JSON"));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.to_string())
                    }));
                }
                Some(Ok(_)) => continue,
                Some(Err(error)) => return Err((1006, error.to_string())),
                None => return Err((1006, "ended".to_owned())),
            }
        }
    }

    /// Subscribes, then pings: the pong comes once the subscription listens.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({"id": id, "type": "subscribe",
                         "payload": {"query": query, "variables": variables}}))
            .await;
        self.send(json!({"type": "ping"})).await;
        loop {
            let message = self.message().await.expect("no close");
            if message["type"] == "pong" {
                return;
            }
            // An operation refused at once answers before the pong.
            if message["id"] == id {
                panic!("the subscription was refused: {message}");
            }
        }
    }

    /// The payload of the next `next` message of operation `id`.
    pub async fn next(&mut self, id: &str) -> Value {
        loop {
            let message = self.message().await.expect("no close");
            if message["id"] == id {
                assert_eq!(message["type"], "next", "{message}");
                return message["payload"].clone();
            }
        }
    }

    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            if let Err(closed) = self.message().await {
                return closed;
            }
        }
    }
}

/// Waits until the app's listener has broadcast every audit entry written
/// so far (its `/metrics` position): what a test writes next is then what its
/// subscribers hear next, not the seed's entries still on their way.
async fn caught_up(app: &TestApp) {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Newest {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let newest: Newest = diesel::sql_query("SELECT coalesce(max(id), 0) AS id FROM audit_log")
        .get_result(&mut app.conn().await)
        .await
        .expect("the newest entry");
    let started = std::time::Instant::now();
    while started.elapsed() < PATIENCE {
        let metrics = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let position = metrics
            .lines()
            .find_map(|l| l.strip_prefix("talentgraph_live_listener_position "))
            .and_then(|n| n.trim().parse::<i64>().ok())
            .unwrap_or(-1);
        if position >= newest.id {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the listener never caught up with entry {}", newest.id);
}

/// The app on the article's data set, its listener past the seed.
async fn seeded() -> TestApp {
    let app = TestApp::spawn_seeded().await;
    caught_up(&app).await;
    app
}

fn data(response: &Value) -> &Value {
    assert!(response.get("errors").is_none(), "{response:#}");
    &response["data"]
}

const EMPLOYMENT_CHANGED: &str = "subscription($org: OrganizationRef!) {
    employmentChanged(organization: $org) {
        cursor kind employment { title isCurrent person { slug } organization { slug } }
        change { action entityType } } }";

const PERSON_MOVED: &str = "subscription($from: OrganizationRef, $to: OrganizationRef) {
    personMoved(from: $from, to: $to) {
        cursor person { slug } movedOn movedOnCertainty
        left { isCurrent endedOn organization { slug } sources { url } }
        joined { isCurrent title organization { slug } sources { url } } } }";

const MOVE: &str = "mutation($input: RecordMoveInput!) { recordMove(input: $input) {
    ended { id } started { id } } }";

/// The cursors of the whole change feed, in order.
async fn feed(app: &TestApp, after: Option<&str>) -> Vec<(String, Value)> {
    let mut cursors = Vec::new();
    let mut after = after.map(str::to_owned);
    loop {
        let page = app
            .graphql_with(
                "query($after: String) { changes(after: $after, first: 100) {
                    edges { cursor node { cursor action entityType after } }
                    pageInfo { hasNextPage endCursor } } }",
                json!({ "after": after }),
            )
            .await;
        let changes = &data(&page)["changes"];
        for edge in changes["edges"].as_array().expect("edges") {
            assert_eq!(edge["cursor"], edge["node"]["cursor"]);
            cursors.push((
                edge["cursor"].as_str().expect("a cursor").to_owned(),
                edge["node"].clone(),
            ));
        }
        if changes["pageInfo"]["hasNextPage"] != true {
            return cursors;
        }
        after = changes["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

#[tokio::test]
async fn hand_written_sql_reaches_a_subscriber_with_the_cursor_the_feed_resumes_from() {
    let app = seeded().await;
    let mut ws = Ws::connect(&app.address, json!({})).await;
    ws.subscribe("meta", EMPLOYMENT_CHANGED, json!({"org": {"slug": "meta"}}))
        .await;
    let before = feed(&app, None).await;
    let last_before = before.last().map(|(cursor, _)| cursor.clone());

    // Three statements by hand, the way psql would; one outside Meta's tree.
    app.sql("UPDATE employments SET title = 'By hand' WHERE id = (SELECT e.id FROM employments e
             JOIN organizations o ON o.id = e.organization_id WHERE o.slug = 'fair' ORDER BY e.id LIMIT 1)")
        .await;
    app.sql("UPDATE employments SET title = 'Elsewhere' WHERE id = (SELECT e.id FROM employments e
             JOIN organizations o ON o.id = e.organization_id WHERE o.slug = 'mistral' ORDER BY e.id LIMIT 1)")
        .await;
    app.sql(
        "UPDATE employments SET is_current = false WHERE id = (SELECT e.id FROM employments e
             JOIN organizations o ON o.id = e.organization_id WHERE o.slug = 'meta' AND e.is_current
             ORDER BY e.id LIMIT 1)",
    )
    .await;

    let first = ws.next("meta").await;
    let first = &first["data"]["employmentChanged"];
    assert_eq!(first["kind"], "CHANGED");
    assert_eq!(first["employment"]["title"], "By hand");
    assert_eq!(
        first["employment"]["organization"]["slug"], "fair",
        "a unit's stint is inside Meta"
    );
    assert_eq!(first["change"]["action"], "UPDATE");
    let second = ws.next("meta").await;
    let second = &second["data"]["employmentChanged"];
    assert_eq!(second["kind"], "ENDED", "{second}");
    assert_eq!(second["employment"]["isCurrent"], false);
    assert_eq!(second["employment"]["organization"]["slug"], "meta");

    // The feed lists the same three changes after what it held before, and
    // the subscription's cursors are the feed's: resuming from the first
    // event's cursor gives the two changes after it, the second event last.
    let after = feed(&app, last_before.as_deref()).await;
    assert_eq!(after.len(), 3, "{after:#?}");
    assert_eq!(after[0].0, first["cursor"].as_str().expect("a cursor"));
    assert_eq!(after[2].0, second["cursor"].as_str().expect("a cursor"));
    assert_eq!(after[1].1["after"]["title"], "Elsewhere");
    let resumed = feed(&app, first["cursor"].as_str()).await;
    assert_eq!(resumed.len(), 2);
    assert_eq!(resumed[1].0, after[2].0);
    let all = feed(&app, None).await;
    assert_eq!(
        all.len(),
        before.len() + 3,
        "the feed only grows at its end"
    );
}

#[tokio::test]
async fn the_change_feed_is_public_ordered_and_tells_nothing_about_tokens() {
    let app = seeded().await;
    let page = app
        .graphql("{ changes(first: 3) { edges { cursor node { entityType action } } pageInfo { hasNextPage } } }")
        .await;
    let edges = data(&page)["changes"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert_eq!(edges.len(), 3);
    assert_eq!(data(&page)["changes"]["pageInfo"]["hasNextPage"], true);
    let fields = app
        .data(r#"{ __type(name: "Change") { fields { name } } }"#)
        .await;
    let names: Vec<&str> = fields["__type"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains("token") || *n == "actor"),
        "{names:?}"
    );
    // Not base64, not numbers ("change:x:y"), and a cursor cut short
    // ("change:1", no position within the transaction).
    for bad in ["nope", "Y2hhbmdlOng6eQ", "Y2hhbmdlOjE"] {
        let refused = app
            .graphql_with(
                "query($after: String) { changes(after: $after) { edges { cursor } } }",
                json!({ "after": bad }),
            )
            .await;
        assert_eq!(
            error_codes(&refused),
            ["BAD_USER_INPUT"],
            "{bad}: {refused:#}"
        );
    }
}

fn import(database_url: &str, jsonl: &str) {
    let dir = std::env::temp_dir().join(format!("talentgraph_live_import_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let file = dir.join("moves.jsonl");
    std::fs::write(&file, jsonl).expect("write the file");
    let output = Command::new(env!("CARGO_BIN_EXE_talentgraph"))
        .args(["import", file.to_str().expect("utf-8")])
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_recorded_through_one_process_reaches_a_subscriber_of_another() {
    let app = seeded().await;
    let other = Binary::serve(&[("DATABASE_URL", &app.database_url)]);
    let client = reqwest::Client::new();
    other.wait_until_ready(&client).await;
    let mut ws = Ws::connect(&other.address, json!({})).await;
    ws.subscribe("out", PERSON_MOVED, json!({"from": {"slug": "mistral"}}))
        .await;
    ws.subscribe("in", PERSON_MOVED, json!({"to": {"slug": "meta"}}))
        .await;

    let editor = app.token("editor").await;
    let lample = app
        .data(r#"{ person(slug: "guillaume-lample") { currentEmployments { id version organization { slug } } } }"#)
        .await;
    let current = lample["person"]["currentEmployments"][0].clone();
    assert_eq!(current["organization"]["slug"], "mistral");
    let kyutai = app.data(r#"{ organization(slug: "kyutai") { id } }"#).await;
    let source = app
        .graphql_as(
            &editor,
            "mutation { createSource(input: {url: \"https://example.org/lample-moves\"}) { source { id } } }",
            json!({}),
        )
        .await;
    let source = data(&source)["createSource"]["source"]["id"].clone();
    let moved = app
        .graphql_as(
            &editor,
            MOVE,
            json!({"input": {"employmentId": current["id"], "version": current["version"],
                             "endedOn": "2026-11", "organizationId": kyutai["organization"]["id"],
                             "title": "Researcher", "sourceIds": [source]}}),
        )
        .await;
    data(&moved);

    let event = ws.next("out").await;
    let event = &event["data"]["personMoved"];
    assert_eq!(event["person"]["slug"], "guillaume-lample");
    assert_eq!(event["left"]["organization"]["slug"], "mistral");
    assert_eq!(event["left"]["isCurrent"], false);
    assert_eq!(event["left"]["endedOn"], "2026-11");
    assert_eq!(event["movedOn"], "2026-11");
    assert_eq!(event["movedOnCertainty"], "CERTAINLY");
    assert!(
        event["left"]["sources"]
            .to_string()
            .contains("https://example.org/lample-moves"),
        "{event}"
    );
    assert_eq!(event["joined"]["organization"]["slug"], "kyutai");
    assert_eq!(event["joined"]["title"], "Researcher");
    assert_eq!(
        event["joined"]["sources"],
        json!([{"url": "https://example.org/lample-moves"}])
    );
    // The event's cursor is in the feed: the move's transaction's last entry.
    let feed = feed(&app, None).await;
    let cursor = event["cursor"].as_str().expect("a cursor");
    assert!(feed.iter().any(|(c, _)| c == cursor), "{cursor}");

    // An import by the command line, into Meta: the `to` subscriber hears it
    // (and the `from: mistral` one does not: Lample's next move is his own).
    import(
        &app.database_url,
        r#"{"type":"source","url":"https://example.org/back-to-meta"}
{"type":"employment","person":"guillaume-lample","organization":"fair","title":"Visiting researcher","startedOn":"2026-12","isCurrent":true,"sources":["https://example.org/back-to-meta"]}
"#,
    );
    // The Kyutai stint is current, so no move yet: end it by hand, as SQL.
    app.sql("UPDATE employments SET is_current = false, ended_on = '2026-12-01', ended_on_precision = 'month'
             WHERE person_id = (SELECT id FROM people WHERE slug = 'guillaume-lample')
               AND organization_id = (SELECT id FROM organizations WHERE slug = 'kyutai')")
        .await;
    let back = ws.next("in").await;
    let back = &back["data"]["personMoved"];
    assert_eq!(back["person"]["slug"], "guillaume-lample");
    assert_eq!(back["left"]["organization"]["slug"], "kyutai");
    assert_eq!(back["joined"]["organization"]["slug"], "fair");
    assert_eq!(back["joined"]["title"], "Visiting researcher");
    assert_eq!(
        back["joined"]["sources"],
        json!([{"url": "https://example.org/back-to-meta"}])
    );
}

#[tokio::test]
async fn a_units_stint_reaches_only_subscribers_that_include_units_and_a_deleted_stint_is_removed()
{
    let app = seeded().await;
    let own_only = "subscription($org: OrganizationRef!) {
        employmentChanged(organization: $org, includeUnits: false) {
            kind employment { title organization { slug } } } }";
    let mut own = Ws::connect(&app.address, json!({})).await;
    own.subscribe("own", own_only, json!({"org": {"slug": "meta"}}))
        .await;
    let mut tree = Ws::connect(&app.address, json!({})).await;
    tree.subscribe("tree", EMPLOYMENT_CHANGED, json!({"org": {"slug": "meta"}}))
        .await;

    // A stint in FAIR, a unit of Meta, changes; then one of Meta's own goes.
    app.sql(
        "UPDATE employments SET title = 'In the unit' WHERE id = (SELECT e.id FROM employments e
             JOIN organizations o ON o.id = e.organization_id WHERE o.slug = 'fair' ORDER BY e.id LIMIT 1)",
    )
    .await;
    app.sql(
        "DELETE FROM employments WHERE id = (SELECT e.id FROM employments e
             JOIN organizations o ON o.id = e.organization_id WHERE o.slug = 'meta' ORDER BY e.id LIMIT 1)",
    )
    .await;

    let first = tree.next("tree").await;
    let first = &first["data"]["employmentChanged"];
    assert_eq!(first["kind"], "CHANGED", "{first}");
    assert_eq!(first["employment"]["organization"]["slug"], "fair");
    let second = tree.next("tree").await;
    let second = &second["data"]["employmentChanged"];
    assert_eq!(second["kind"], "REMOVED", "{second}");
    assert_eq!(second["employment"]["organization"]["slug"], "meta");
    assert_eq!(second["change"]["action"], "DELETE");

    // Without units, the unit's change never arrives: the deletion comes first.
    let heard = own.next("own").await;
    let heard = &heard["data"]["employmentChanged"];
    assert_eq!(heard["kind"], "REMOVED", "{heard}");
    assert_eq!(heard["employment"]["organization"]["slug"], "meta");
}

#[tokio::test]
async fn an_import_reaches_an_employment_subscriber() {
    let app = seeded().await;
    let mut ws = Ws::connect(&app.address, json!({})).await;
    ws.subscribe("k", EMPLOYMENT_CHANGED, json!({"org": {"slug": "kyutai"}}))
        .await;
    import(
        &app.database_url,
        r#"{"type":"source","url":"https://example.org/new-hire"}
{"type":"person","slug":"ada-new","name":"Ada New"}
{"type":"employment","person":"ada-new","organization":"kyutai","title":"Engineer","startedOn":"2026","isCurrent":true,"sources":["https://example.org/new-hire"]}
"#,
    );
    let event = ws.next("k").await;
    let event = &event["data"]["employmentChanged"];
    assert_eq!(event["kind"], "ADDED");
    assert_eq!(event["employment"]["person"]["slug"], "ada-new");
    assert_eq!(event["employment"]["title"], "Engineer");
}

#[tokio::test]
async fn audit_events_are_for_admins_and_a_revoked_token_closes_its_socket() {
    let app = seeded().await;
    // Anonymous: refused with the protocol's `error`, the socket stays.
    let mut anonymous = Ws::connect(&app.address, json!({})).await;
    anonymous
        .send(json!({"id": "a", "type": "subscribe",
                     "payload": {"query": "subscription { auditEvents { cursor } }"}}))
        .await;
    let refused = anonymous.message().await.expect("an answer");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );

    // A token that is not valid is refused at connection_init.
    let mut stream = open(&app.address, None).await.expect("opens");
    stream
        .send(Message::text(
            json!({"type": "connection_init", "payload": {"Authorization": "Bearer tg_nope"}})
                .to_string(),
        ))
        .await
        .expect("send");
    let mut bad = Ws { stream };
    assert_eq!(bad.closed().await.0, 4403);

    let admin = app.token("admin").await;
    let mut ws = Ws::connect(
        &app.address,
        json!({"Authorization": format!("Bearer {admin}")}),
    )
    .await;
    ws.subscribe(
        "audit",
        "subscription { auditEvents { cursor entry { actor action entityType } } }",
        json!({}),
    )
    .await;
    app.sql("UPDATE people SET bio = 'Edited by hand' WHERE slug = 'guillaume-lample'")
        .await;
    let event = ws.next("audit").await;
    let entry = &event["data"]["auditEvents"]["entry"];
    assert_eq!(entry["action"], "UPDATE");
    assert_eq!(entry["entityType"], "PERSON");
    assert!(
        entry["actor"]
            .as_str()
            .expect("actor")
            .starts_with("database:")
    );

    // Revoked (here by SQL, as `talentgraph token revoke` does): closed.
    app.sql("UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL")
        .await;
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 4403, "{reason}");
}

#[tokio::test]
async fn sockets_obey_their_limits() {
    let app = TestApp::spawn_with(|config| {
        config.live.max_subscriptions = 1;
        config.live.max_sockets = 2;
        config.http.cors_origins = vec!["https://app.example.org".to_owned()];
    })
    .await;
    // Operations before connection_ack close the socket (4401).
    let mut early = Ws {
        stream: open(&app.address, None).await.expect("opens"),
    };
    early
        .send(json!({"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}}))
        .await;
    assert_eq!(early.closed().await.0, 4401);

    let mut ws = Ws::connect(&app.address, json!({})).await;
    // The document limits of HTTP apply: too deep is refused with its code.
    let deep = format!(
        "subscription {{ employmentChanged(organization: {{slug: \"x\"}}) {{ employment {{ {}id{} }} }} }}",
        "person { employments { ".repeat(10),
        " } }".repeat(10)
    );
    ws.send(json!({"id": "deep", "type": "subscribe", "payload": {"query": deep}}))
        .await;
    let refused = ws.message().await.expect("an answer");
    assert_eq!(refused["type"], "error");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "QUERY_TOO_DEEP",
        "{refused}"
    );
    // So is one whose lists could fan out past the cost budget.
    let costly = "subscription { employmentChanged(organization: {slug: \"x\"}) { employment {
        organization { employments(first: 100) { nodes {
            organization { employments(first: 100) { nodes {
                organization { employments(first: 100) { nodes { person { name } } } } } } } } } } } } }";
    ws.send(json!({"id": "costly", "type": "subscribe", "payload": {"query": costly}}))
        .await;
    let refused = ws.message().await.expect("an answer");
    assert_eq!(refused["id"], "costly");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{refused}"
    );
    // An unknown organization is NOT_FOUND, as a client's mistake.
    ws.send(json!({"id": "nf", "type": "subscribe",
                   "payload": {"query": "subscription { employmentChanged(organization: {slug: \"nope\"}) { cursor } }"}}))
        .await;
    let refused = ws.message().await.expect("an answer");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );

    app.sql("INSERT INTO organizations (slug, name, kind) VALUES ('acme', 'Acme', 'company')")
        .await;
    ws.subscribe("one", EMPLOYMENT_CHANGED, json!({"org": {"slug": "acme"}}))
        .await;
    ws.send(json!({"id": "two", "type": "subscribe",
                   "payload": {"query": EMPLOYMENT_CHANGED, "variables": {"org": {"slug": "acme"}}}}))
        .await;
    let refused = ws.message().await.expect("an answer");
    assert_eq!(refused["id"], "two");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "TOO_MANY_SUBSCRIPTIONS"
    );
    // The same id twice closes the socket (4409).
    ws.send(json!({"id": "one", "type": "subscribe",
                   "payload": {"query": EMPLOYMENT_CHANGED, "variables": {"org": {"slug": "acme"}}}}))
        .await;
    assert_eq!(ws.closed().await.0, 4409);

    // Browser pages: their own origin and the configured ones only.
    let address = app.address.clone();
    let own = address.clone();
    assert!(open(&address, Some(&own)).await.is_ok());
    assert!(
        open(&address, Some("https://app.example.org"))
            .await
            .is_ok()
    );
    match open(&address, Some("https://evil.example")).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("a foreign origin opened a socket: {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn at_most_the_configured_number_of_sockets_are_open() {
    let app = TestApp::spawn_with(|config| config.live.max_sockets = 1).await;
    let _first = Ws::connect(&app.address, json!({})).await;
    match open(&app.address, None).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 503),
        other => panic!("a second socket opened: {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn a_socket_without_connection_init_or_silent_past_the_idle_timeout_is_closed() {
    let app = TestApp::spawn_with(|config| {
        config.live.init_timeout = Duration::from_secs(1);
        config.live.ping_interval = Duration::from_secs(1);
        config.live.idle_timeout = Duration::from_secs(2);
    })
    .await;
    let mut silent = Ws {
        stream: open(&app.address, None).await.expect("opens"),
    };
    assert_eq!(silent.closed().await.0, 4408);

    // A client that stops answering pings (this one reads nothing, so its
    // library sends no pong) is closed once idle. Its frames are then read
    // from the socket itself: through the library, reading would first send
    // the pongs it owes, and once the server has given up waiting for the
    // closing handshake that write fails before the close frame is seen.
    let mut idle = Ws::connect(&app.address, json!({})).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut bytes = Vec::new();
    tokio::time::timeout(
        PATIENCE,
        tokio::io::AsyncReadExt::read_to_end(idle.stream.get_mut(), &mut bytes),
    )
    .await
    .expect("the server ends the connection")
    .expect("read the socket");
    assert_eq!(close_code_in(&bytes), Some(4504), "{bytes:?}");
}

/// The code of the first close frame in unmasked server-to-client frames.
fn close_code_in(mut bytes: &[u8]) -> Option<u16> {
    while bytes.len() >= 2 {
        let opcode = bytes[0] & 0x0f;
        let (length, header) = match bytes[1] & 0x7f {
            126 => (
                usize::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?])),
                4,
            ),
            127 => return None,
            short => (usize::from(short), 2),
        };
        let payload = bytes.get(header..header + length)?;
        if opcode == 0x8 {
            return Some(u16::from_be_bytes([*payload.first()?, *payload.get(1)?]));
        }
        bytes = &bytes[header + length..];
    }
    None
}

#[tokio::test]
async fn a_subscriber_too_slow_for_its_queue_is_dropped_and_counted() {
    let app = TestApp::spawn_with(|config| config.live.queue = 1).await;
    talentgraph::seed::seed(&mut app.conn().await)
        .await
        .expect("the article loads");
    caught_up(&app).await;
    let mut ws = Ws::connect(&app.address, json!({})).await;
    ws.subscribe("meta", EMPLOYMENT_CHANGED, json!({"org": {"slug": "meta"}}))
        .await;
    // One statement, one transaction, an event per stint: far more at once
    // than a queue of one holds.
    app.sql("UPDATE employments SET title = coalesce(title, 'Stint') || ' (edited)'")
        .await;
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1013, "{reason}");
    assert!(reason.contains("changes(after"), "{reason}");
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("talentgraph_ws_closed_total{reason=\"slow_consumer\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_every_socket_with_going_away() {
    let app = TestApp::spawn().await;
    let server = Binary::serve(&[("DATABASE_URL", &app.database_url)]);
    server.wait_until_ready(&reqwest::Client::new()).await;
    let mut ws = Ws::connect(&server.address, json!({})).await;
    server.signal("TERM");
    let (code, _) = ws.closed().await;
    assert_eq!(code, u16::from(CloseCode::Away));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_loses_no_event_and_repeats_none() {
    let cluster = Cluster::init();
    tokio::task::block_in_place(|| cluster.start());
    let url = cluster.url("talentgraph");
    let server = Binary::serve(&[("DATABASE_URL", &url)]);
    let client = reqwest::Client::new();
    server.wait_until_ready(&client).await;
    let sql = |statement: &str| {
        let output = Command::new("psql")
            .args([&url, "-qAtc", statement])
            .output()
            .expect("psql runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    sql("INSERT INTO organizations (slug, name, kind) VALUES ('acme', 'Acme', 'company')");
    let mut ws = Ws::connect(&server.address, json!({})).await;
    ws.subscribe("o", "subscription { employmentChanged(organization: {slug: \"acme\"}) { cursor employment { title } } }", json!({}))
        .await;
    let add = |title: &str| {
        format!(
            "BEGIN;
             INSERT INTO people (slug, name) VALUES ('p-{title}', 'P {title}');
             INSERT INTO sources (url) VALUES ('https://example.org/{title}');
             WITH e AS (INSERT INTO employments (person_id, organization_id, title, is_current)
                 SELECT p.id, o.id, '{title}', true FROM people p, organizations o
                 WHERE p.slug = 'p-{title}' AND o.slug = 'acme' RETURNING id)
             INSERT INTO employment_sources (employment_id, source_id)
                 SELECT e.id, s.id FROM e, sources s WHERE s.url = 'https://example.org/{title}';
             COMMIT;"
        )
    };
    sql(&add("one"));
    sql(&add("two"));
    let mut titles = Vec::new();
    let mut cursors = Vec::new();
    for _ in 0..2 {
        let event = ws.next("o").await;
        titles.push(event["data"]["employmentChanged"]["employment"]["title"].clone());
        cursors.push(event["data"]["employmentChanged"]["cursor"].clone());
    }
    // A restart: the listener's connection is gone, and writes land before
    // it is back (their notifications go nowhere).
    tokio::task::block_in_place(|| {
        cluster.stop();
        cluster.start();
    });
    sql(&add("three"));
    sql(&add("four"));
    for _ in 0..2 {
        let event = ws.next("o").await;
        titles.push(event["data"]["employmentChanged"]["employment"]["title"].clone());
        cursors.push(event["data"]["employmentChanged"]["cursor"].clone());
    }
    assert_eq!(
        titles,
        [json!("one"), json!("two"), json!("three"), json!("four")]
    );
    // Nothing twice: after the fourth, the next event is a fifth write's.
    sql(&add("five"));
    let fifth = ws.next("o").await;
    assert_eq!(
        fifth["data"]["employmentChanged"]["employment"]["title"],
        "five"
    );
    // The cursors are the feed's own, in its order.
    let page = client
        .post(server.url("/graphql"))
        .json(&json!({"query": "{ changes(first: 100) { edges { cursor node { entityType after } } } }"}))
        .send()
        .await
        .expect("answers")
        .json::<Value>()
        .await
        .expect("JSON");
    let stints: Vec<Value> = data(&page)["changes"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["node"]["entityType"] == "EMPLOYMENT")
        .map(|e| e["cursor"].clone())
        .collect();
    assert_eq!(stints[..4], cursors[..]);
    let metrics = client
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        !metrics.contains("talentgraph_live_listener_reconnects_total 0"),
        "the listener did reconnect: {metrics}"
    );
    tokio::task::block_in_place(|| cluster.stop());
}

/// The `graphql-ws` npm client (what GraphiQL and most frontends use), from
/// `target/graphql-ws-client` (installed on first use).
fn npm_client() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/graphql-ws-client");
    if !dir.join("node_modules/graphql-ws/package.json").exists() {
        std::fs::create_dir_all(&dir).expect("a directory");
        std::fs::write(
            dir.join("package.json"),
            r#"{"private":true,"type":"module"}"#,
        )
        .expect("package.json");
        let status = Command::new("npm")
            .args([
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "graphql-ws@6.4.2",
                "ws@8.23.1",
            ])
            .current_dir(&dir)
            .status()
            .expect("npm runs");
        assert!(status.success(), "npm install graphql-ws ws");
    }
    std::fs::write(
        dir.join("subscribe.mjs"),
        r#"import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
const [url, query, variables] = process.argv.slice(2);
const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false,
  on: { connected: () => console.log(JSON.stringify({ connected: true })) } });
client.subscribe({ query, variables: JSON.parse(variables) }, {
  next: (value) => { console.log(JSON.stringify(value)); client.dispose(); process.exit(0); },
  error: (error) => { console.log(JSON.stringify({ error: String(error?.message ?? error) })); process.exit(1); },
  complete: () => {},
});
"#,
    )
    .expect("the script");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_ws_npm_client_subscribes() {
    let dir = tokio::task::block_in_place(npm_client);
    let app = seeded().await;
    let mut child = Command::new("node")
        .arg(dir.join("subscribe.mjs"))
        .arg(ws_url(&app.address))
        .arg(PERSON_MOVED)
        .arg(json!({"to": {"slug": "anthropic"}}).to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = |wait: Duration| tokio::task::block_in_place(|| heard.recv_timeout(wait));
    let connected = next_line(PATIENCE).expect("the npm client connects");
    assert_eq!(connected, r#"{"connected":true}"#);
    // The npm client cannot tell when its subscription listens: move people
    // into Anthropic one at a time until it hears one, then check that one.
    let mut event = None;
    for person in [
        "hugo-touvron",
        "thibaut-lavril",
        "xavier-martinet",
        "naman-goyal",
    ] {
        app.sql(&format!(
            "BEGIN;
             INSERT INTO sources (url) VALUES ('https://example.org/{person}');
             UPDATE employments SET is_current = false WHERE is_current
                AND person_id = (SELECT id FROM people WHERE slug = '{person}');
             WITH e AS (INSERT INTO employments (person_id, organization_id, title, is_current, started_on, started_on_precision)
                 SELECT p.id, o.id, 'Member of Technical Staff', true, '2026-12-01', 'month'
                 FROM people p, organizations o WHERE p.slug = '{person}' AND o.slug = 'anthropic' RETURNING id)
             INSERT INTO employment_sources (employment_id, source_id)
                 SELECT e.id, s.id FROM e, sources s WHERE s.url = 'https://example.org/{person}';
             COMMIT;"
        ))
        .await;
        if let Ok(line) = next_line(Duration::from_secs(2)) {
            event = Some((person, line));
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let (person, line) = event.expect("the npm client heard a move");
    let value: Value = serde_json::from_str(&line).expect("JSON");
    let moved = &value["data"]["personMoved"];
    assert_eq!(moved["person"]["slug"], person, "{value}");
    assert_eq!(moved["joined"]["organization"]["slug"], "anthropic");
    assert_eq!(moved["joined"]["title"], "Member of Technical Staff");
    assert_eq!(
        moved["joined"]["sources"],
        json!([{"url": format!("https://example.org/{person}")}])
    );
    assert_eq!(moved["movedOn"], "2026-12");
    assert_eq!(moved["movedOnCertainty"], "POSSIBLY");
}

#[tokio::test]
async fn an_older_transaction_committing_later_is_delivered_first_never_skipped() {
    use diesel_async::SimpleAsyncConnection;
    let app = seeded().await;
    let mut ws = Ws::connect(&app.address, json!({})).await;
    ws.subscribe("meta", EMPLOYMENT_CHANGED, json!({"org": {"slug": "meta"}}))
        .await;
    let stint = |n: usize| {
        format!(
            "(SELECT e.id FROM employments e JOIN organizations o ON o.id = e.organization_id
              WHERE o.slug = 'meta' ORDER BY e.id OFFSET {n} LIMIT 1)"
        )
    };
    // A writes first (its entry gets the lower id) but commits last.
    let mut a = app.conn().await;
    a.batch_execute(&format!(
        "BEGIN; UPDATE employments SET title = 'A' WHERE id = {}",
        stint(0)
    ))
    .await
    .expect("A writes");
    app.sql(&format!(
        "UPDATE employments SET title = 'B' WHERE id = {}",
        stint(1)
    ))
    .await;
    a.batch_execute("COMMIT").await.expect("A commits");
    let first = ws.next("meta").await;
    let second = ws.next("meta").await;
    let titles = [
        &first["data"]["employmentChanged"]["employment"]["title"],
        &second["data"]["employmentChanged"]["employment"]["title"],
    ];
    assert_eq!(
        titles,
        [&json!("A"), &json!("B")],
        "in the order of the feed"
    );
    let resumed = feed(&app, first["data"]["employmentChanged"]["cursor"].as_str()).await;
    assert_eq!(resumed.len(), 1, "{resumed:#?}");
    assert_eq!(
        resumed[0].0,
        second["data"]["employmentChanged"]["cursor"]
            .as_str()
            .expect("c")
    );
}

const FLOW_MOVES: &str = "query($after: String) { organization(slug: \"meta\") { talentFlows {
    to { slug } count people { slug }
    moves(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { cursor person { slug } movedOn
        left { organization { slug } } joined { organization { slug } sources { url } } } } } } } }";

#[tokio::test]
async fn a_talent_flow_lists_the_moves_it_counts_page_by_page_in_one_statement_per_level() {
    let app = TestApp::spawn_seeded().await;
    let flows = app.data(FLOW_MOVES).await;
    let flows = flows["organization"]["talentFlows"]
        .as_array()
        .expect("flows")
        .clone();
    assert!(flows.len() > 3, "{flows:#?}");
    let mistral = flows
        .iter()
        .find(|f| f["to"]["slug"] == "mistral")
        .expect("a flow to Mistral");
    assert_eq!(mistral["count"], 5);
    assert!(mistral["moves"]["totalCount"].as_i64() >= Some(5));
    for flow in &flows {
        // Every page of the flow's moves, through the cursors: each move once,
        // into the flow's destination, out of Meta's tree, by its people.
        let mut movers = std::collections::BTreeSet::new();
        let mut seen = Vec::new();
        let mut page = flow["moves"].clone();
        loop {
            for edge in page["edges"].as_array().expect("edges") {
                let node = &edge["node"];
                assert_eq!(node["cursor"], Value::Null, "listed, not delivered");
                assert_eq!(node["joined"]["organization"]["slug"], flow["to"]["slug"]);
                assert!(
                    ["meta", "fair"]
                        .contains(&node["left"]["organization"]["slug"].as_str().unwrap_or("")),
                    "{node}"
                );
                assert!(
                    !node["joined"]["sources"]
                        .as_array()
                        .expect("sources")
                        .is_empty()
                );
                movers.insert(node["person"]["slug"].as_str().expect("slug").to_owned());
                assert!(!seen.contains(&edge["cursor"]), "a move twice: {edge}");
                seen.push(edge["cursor"].clone());
            }
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            let again = app
                .graphql_with(FLOW_MOVES, json!({"after": page["pageInfo"]["endCursor"]}))
                .await;
            let again = data(&again)["organization"]["talentFlows"]
                .as_array()
                .expect("flows")
                .iter()
                .find(|f| f["to"]["slug"] == flow["to"]["slug"])
                .expect("the same flow")
                .clone();
            page = again["moves"].clone();
        }
        assert_eq!(
            seen.len() as i64,
            flow["moves"]["totalCount"].as_i64().expect("total")
        );
        let people: std::collections::BTreeSet<String> = flow["people"]
            .as_array()
            .expect("people")
            .iter()
            .map(|p| p["slug"].as_str().expect("slug").to_owned())
            .collect();
        assert_eq!(movers, people, "the moves are the flow's people's");
    }
    // One statement for the moves of every flow: listing them for all flows
    // costs what listing them for one does, give or take one. A move's
    // person is the same key as a flow's `people`, loaded one level higher;
    // when the moves come back before that batch has, their people are not
    // in the cache yet and load again in a batch of their own (the loader
    // does not share batches in flight). That race is one statement for
    // any number of flows; a statement per flow would be one per flow.
    let all = app
        .statements_for(
            FLOW_MOVES
                .replace("$after: String", "$after: String = null")
                .as_str(),
        )
        .await;
    let one = app
        .statements_for(&FLOW_MOVES.replace("talentFlows {", "talentFlows(first: 1) {"))
        .await;
    assert!(
        all <= one + 1,
        "no statement per flow: {all} for {} flows, {one} for one",
        flows.len()
    );
    // The root field and a cohort's destinations list theirs too.
    let root = app
        .data(r#"{ talentFlows(from: "meta", to: "mistral") { count moves { totalCount nodes { person { slug } } } } }"#)
        .await;
    assert_eq!(root["talentFlows"][0]["count"], 5);
    assert!(root["talentFlows"][0]["moves"]["totalCount"].as_i64() >= Some(5));
    let cohort = app
        .data(r#"{ publication(slug: "llama-2023") { retention(organization: "meta") {
            destinations { to { slug } count moves { totalCount nodes { person { slug } } } } } } }"#)
        .await;
    let destinations = cohort["publication"]["retention"]["destinations"]
        .as_array()
        .expect("d")
        .clone();
    let to_mistral = destinations
        .iter()
        .find(|d| d["to"]["slug"] == "mistral")
        .expect("Mistral");
    assert_eq!(to_mistral["moves"]["totalCount"], 5, "{to_mistral}");
    let bad = app
        .graphql_with(FLOW_MOVES, json!({"after": "bm9wZQ"}))
        .await;
    assert_eq!(error_codes(&bad)[0], "BAD_USER_INPUT");
}
