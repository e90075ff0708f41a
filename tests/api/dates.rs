//! Partial dates keep their precision; impossible dates are refused; the
//! point-in-time rule is the same in SQL (organizations) and Rust (people).

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use serde_json::json;
use talentgraph::graphql::error::{Stage, with_stage_code};
use talentgraph::graphql::scalars::{DateScalar, PartialDateScalar};

use crate::support::{TestApp, error_codes, strings};

/// Stints with bounds at every precision, and unknown ones, at one organization.
const FIXTURE: &str = "
    INSERT INTO sources (url) VALUES ('https://example.org/cv');
    INSERT INTO organizations (slug, name, kind, founded_on, founded_on_precision) VALUES
        ('acme', 'Acme', 'company', '1999-01-01', 'year'),
        ('acme-labs', 'Acme Labs', 'research_lab', '2004-06-01', 'month'),
        ('acme-ventures', 'Acme Ventures', 'company', '2010-03-17', 'day');
    UPDATE organizations SET parent_id = (SELECT id FROM organizations WHERE slug = 'acme') WHERE slug = 'acme-labs';
    INSERT INTO people (slug, name) VALUES ('day-bounds', 'A Day'), ('month-bounds', 'B Month'),
        ('year-bounds', 'C Year'), ('unknown-end', 'D Unknown End'), ('unknown-start', 'E Unknown Start');
    BEGIN;
    INSERT INTO employments (person_id, organization_id, started_on, started_on_precision, ended_on, ended_on_precision, is_current)
    SELECT p.id, (SELECT id FROM organizations WHERE slug = 'acme'), s, sp, e, ep, c
    FROM (VALUES
        ('day-bounds',    '2020-03-02'::date, 'day',   '2023-04-28'::date, 'day',   false),
        ('month-bounds',  '2020-03-01'::date, 'month', '2023-04-01'::date, 'month', false),
        ('year-bounds',   '2020-01-01'::date, 'year',  '2023-01-01'::date, 'year',  false),
        ('unknown-end',   '2021-01-01'::date, 'year',  NULL,               NULL,    false),
        ('unknown-start', NULL,               NULL,    NULL,               NULL,    true)
    ) AS v(slug, s, sp, e, ep, c) JOIN people p ON p.slug = v.slug;
    INSERT INTO employment_sources (employment_id, source_id) SELECT id, (SELECT id FROM sources) FROM employments;
    COMMIT;
    INSERT INTO publications (slug, title, published_on, published_on_precision) VALUES ('old-paper', 'An Old Paper', '1998-01-01', 'year');
";

#[tokio::test]
async fn partial_dates_come_back_at_the_precision_they_were_stored_with() {
    let app = TestApp::spawn().await;
    app.sql(FIXTURE).await;
    let data = app
        .data(
            r#"{
                organizations(first: 10) { nodes { slug foundedOn } }
                publication(slug: "old-paper") { publishedOn }
                day: person(slug: "day-bounds") { employments { startedOn endedOn } }
                month: person(slug: "month-bounds") { employments { startedOn endedOn } }
                year: person(slug: "year-bounds") { employments { startedOn endedOn } }
                unknownEnd: person(slug: "unknown-end") { employments { startedOn endedOn isCurrent } }
            }"#,
        )
        .await;
    assert_eq!(
        data["organizations"]["nodes"],
        json!([
            { "slug": "acme", "foundedOn": "1999" },
            { "slug": "acme-labs", "foundedOn": "2004-06" },
            { "slug": "acme-ventures", "foundedOn": "2010-03-17" }
        ])
    );
    assert_eq!(data["publication"]["publishedOn"], "1998");
    assert_eq!(
        data["day"]["employments"],
        json!([{ "startedOn": "2020-03-02", "endedOn": "2023-04-28" }])
    );
    assert_eq!(
        data["month"]["employments"],
        json!([{ "startedOn": "2020-03", "endedOn": "2023-04" }])
    );
    assert_eq!(
        data["year"]["employments"],
        json!([{ "startedOn": "2020", "endedOn": "2023" }])
    );
    assert_eq!(
        data["unknownEnd"]["employments"],
        json!([{ "startedOn": "2021", "endedOn": null, "isCurrent": false }])
    );
}

#[tokio::test]
async fn the_database_refuses_dates_that_disagree_with_their_precision() {
    let app = TestApp::spawn().await;
    use diesel_async::SimpleAsyncConnection;
    let mut conn = app.conn().await;
    for bad in [
        "INSERT INTO organizations (slug, name, kind, founded_on, founded_on_precision) VALUES ('x', 'X', 'company', '2023-04-28', 'month')",
        "INSERT INTO organizations (slug, name, kind, founded_on, founded_on_precision) VALUES ('x', 'X', 'company', '2023-04-01', 'year')",
        "INSERT INTO organizations (slug, name, kind, founded_on) VALUES ('x', 'X', 'company', '2023-01-01')",
        "INSERT INTO organizations (slug, name, kind, founded_on, founded_on_precision) VALUES ('x', 'X', 'company', '2023-01-01', 'week')",
    ] {
        let error = conn.batch_execute(bad).await.expect_err(bad).to_string();
        assert!(
            error.contains("organizations_founded_on_valid"),
            "{bad}: {error}"
        );
    }
}

#[tokio::test]
async fn impossible_dates_in_arguments_and_variables_are_bad_user_input() {
    let app = TestApp::spawn_seeded().await;
    for day in ["2023-02-30", "2023-13-01", "2023-04", "yesterday"] {
        let literal = app
            .graphql(&format!(
                r#"{{ person(slug: "hugo-touvron") {{ employments(at: "{day}") {{ id }} }} }}"#
            ))
            .await;
        assert_eq!(
            error_codes(&literal),
            ["BAD_USER_INPUT"],
            "{day}: {literal}"
        );
        let variable = app
            .graphql_with(
                r#"query ($at: Date) { organization(slug: "meta") { employments(at: $at) { totalCount } } }"#,
                json!({ "at": day }),
            )
            .await;
        assert_eq!(
            error_codes(&variable),
            ["BAD_USER_INPUT"],
            "{day}: {variable}"
        );
    }
}

/// A one-field schema taking a `PartialDate`, to test the scalar where the
/// read API has no argument of that type (mutations will).
struct EchoQuery;

#[Object]
impl EchoQuery {
    /// Refuses an impossible date as the mutations do, naming the field.
    async fn echo(
        &self,
        value: PartialDateScalar,
    ) -> talentgraph::graphql::error::ApiResult<PartialDateScalar> {
        Ok(value.checked("value")?.into())
    }

    async fn echo_day(&self, value: DateScalar) -> DateScalar {
        value
    }
}

#[tokio::test]
async fn the_partial_date_scalar_accepts_each_precision_and_refuses_impossible_values() {
    let schema = Schema::build(EchoQuery, EmptyMutation, EmptySubscription).finish();
    for ok in ["2023", "2023-04", "2023-04-28", "2024-02-29"] {
        let response = schema
            .execute(format!(r#"{{ echo(value: "{ok}") }}"#))
            .await;
        assert_eq!(
            response.data.into_json().ok(),
            Some(json!({ "echo": ok })),
            "{ok}"
        );
    }
    for bad in [
        "2023-02-30",
        "2023-13",
        "2023-00",
        "2023-4",
        "23",
        "2023-04-28T10:00",
    ] {
        let response = schema
            .execute(format!(r#"{{ echo(value: "{bad}") }}"#))
            .await;
        // Coded as the app codes every response (observability::execute_graphql).
        let codes: Vec<_> = response
            .errors
            .into_iter()
            .map(|e| with_stage_code(e, Stage::Parsed))
            .map(|e| {
                e.extensions
                    .as_ref()
                    .and_then(|x| x.get("code"))
                    .map(|c| c.to_string())
            })
            .collect();
        assert_eq!(codes, [Some("\"BAD_USER_INPUT\"".to_owned())], "{bad}");
    }
    let response = schema.execute(r#"{ echoDay(value: "2023-02-28") }"#).await;
    assert_eq!(
        response.data.into_json().ok(),
        Some(json!({ "echoDay": "2023-02-28" }))
    );
}

#[test]
fn a_date_short_of_a_day_is_refused_with_the_one_form_date_takes() {
    use async_graphql::{InputType, Value};
    for short in ["2023-04", "2023"] {
        let error = <DateScalar as InputType>::parse(Some(Value::String(short.to_owned())))
            .expect_err("short of a day");
        let message = error.into_server_error(Default::default()).message;
        assert!(
            message.contains("expected a full date as YYYY-MM-DD")
                && !message.contains("YYYY-MM or"),
            "{short}: the message offers what Date refuses: {message}"
        );
    }
}

#[tokio::test]
async fn a_date_literal_short_of_a_day_fails_validation() {
    let schema = Schema::build(EchoQuery, EmptyMutation, EmptySubscription).finish();
    for short in ["2023-04", "2023"] {
        let response = schema
            .execute(format!(r#"{{ echoDay(value: "{short}") }}"#))
            .await;
        assert_eq!(response.errors.len(), 1, "{short}: {:?}", response.errors);
        assert!(
            response.errors[0].path.is_empty(),
            "a request error, not a field's"
        );
    }
}

/// Who was at Acme on `day`, asked of the organization (SQL) and of each
/// person (Rust): both must give the same answer.
async fn at_acme(app: &TestApp, day: &str, certainty: &str) -> Vec<String> {
    let data = app
        .data(&format!(
            r#"{{
                organization(slug: "acme") {{ employments(at: "{day}", certainty: {certainty}, first: 100) {{ totalCount nodes {{ person {{ slug }} }} }} }}
                people(first: 100) {{ nodes {{ slug employments(at: "{day}", certainty: {certainty}) {{ id }} }} }}
            }}"#
        ))
        .await;
    let listing = &data["organization"]["employments"];
    let mut by_organization = strings(&listing["nodes"], |e| &e["person"]["slug"]);
    by_organization.sort();
    assert_eq!(listing["totalCount"], by_organization.len());
    let mut by_person: Vec<String> = data["people"]["nodes"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|p| p["employments"].as_array().is_some_and(|e| !e.is_empty()))
        .map(|p| p["slug"].as_str().unwrap_or_default().to_owned())
        .collect();
    by_person.sort();
    assert_eq!(
        by_organization, by_person,
        "SQL and Rust disagree on {day} {certainty}"
    );
    by_organization
}

#[tokio::test]
async fn point_in_time_follows_one_rule_for_day_month_year_and_unknown_bounds() {
    let app = TestApp::spawn().await;
    app.sql(FIXTURE).await;
    // Inside every stint's bounds, whatever their precision.
    assert_eq!(
        at_acme(&app, "2022-06-15", "CERTAINLY").await,
        ["day-bounds", "month-bounds", "year-bounds"]
    );
    assert_eq!(
        at_acme(&app, "2022-06-15", "POSSIBLY").await,
        [
            "day-bounds",
            "month-bounds",
            "unknown-end",
            "unknown-start",
            "year-bounds"
        ]
    );
    // The first day of a day-precision start counts; inside a month or year it is only possible.
    assert_eq!(
        at_acme(&app, "2020-03-02", "CERTAINLY").await,
        ["day-bounds"]
    );
    assert_eq!(
        at_acme(&app, "2020-03-02", "POSSIBLY").await,
        ["day-bounds", "month-bounds", "unknown-start", "year-bounds"]
    );
    // Before any known start: only the stint with an unknown start may have been going on.
    assert_eq!(
        at_acme(&app, "2019-12-31", "POSSIBLY").await,
        ["unknown-start"]
    );
    // The last day of a day-precision end still counts; the next day does not.
    assert_eq!(
        at_acme(&app, "2023-04-28", "CERTAINLY").await,
        ["day-bounds"]
    );
    assert_eq!(
        at_acme(&app, "2023-04-29", "POSSIBLY").await,
        [
            "month-bounds",
            "unknown-end",
            "unknown-start",
            "year-bounds"
        ]
    );
    // After the whole end year, only unknown ends remain possible.
    assert_eq!(
        at_acme(&app, "2024-01-01", "POSSIBLY").await,
        ["unknown-end", "unknown-start"]
    );
    assert!(at_acme(&app, "2024-01-01", "CERTAINLY").await.is_empty());

    let sure = app
        .data(r#"{ person(slug: "month-bounds") { employments { a: inProgressOn(date: "2020-03-15") b: inProgressOn(date: "2021-01-01") c: inProgressOn(date: "2023-05-01") } } }"#)
        .await;
    assert_eq!(
        sure["person"]["employments"],
        json!([{ "a": "POSSIBLY", "b": "CERTAINLY", "c": "NO" }])
    );
}

#[tokio::test]
async fn units_are_inside_their_parent_at_a_point_in_time_too() {
    let app = TestApp::spawn().await;
    app.sql(FIXTURE).await;
    app.sql(
        "BEGIN;
         INSERT INTO employments (person_id, organization_id, started_on, started_on_precision, is_current)
         SELECT (SELECT id FROM people WHERE slug = 'day-bounds'), id, '2024-01-01', 'day', true FROM organizations WHERE slug = 'acme-labs';
         INSERT INTO employment_sources SELECT max(id), (SELECT id FROM sources) FROM employments;
         COMMIT;",
    )
    .await;
    let data = app
        .data(
            r#"{ organization(slug: "acme") {
                inside: employments(at: "2025-01-01", certainty: CERTAINLY) { nodes { organization { slug } } }
                own: employments(at: "2025-01-01", certainty: CERTAINLY, includeUnits: false) { totalCount }
            } }"#,
        )
        .await;
    assert_eq!(
        data["organization"]["inside"]["nodes"],
        json!([{ "organization": { "slug": "acme-labs" } }])
    );
    assert_eq!(data["organization"]["own"]["totalCount"], 0);
}
