// Diesel table definitions mirroring `migrations/`, written by hand: diesel_cli,
// which would generate them, links libpq, which this project otherwise avoids.
// Every row type selects its columns through them, so a column that drifts from
// the migrated database fails the integration tests that read it. The derived
// tables (career_moves, tree_members) are read with SQL only and not listed.

diesel::table! {
    authorship_sources (authorship_id, source_id) {
        authorship_id -> Int8,
        source_id -> Int8,
    }
}

diesel::table! {
    authorships (id) {
        id -> Int8,
        publication_id -> Int8,
        person_id -> Int8,
        position -> Int4,
        affiliation_id -> Nullable<Int8>,
        version -> Int4,
    }
}

diesel::table! {
    employment_sources (employment_id, source_id) {
        employment_id -> Int8,
        source_id -> Int8,
    }
}

diesel::table! {
    employments (id) {
        id -> Int8,
        person_id -> Int8,
        organization_id -> Int8,
        title -> Nullable<Text>,
        is_founder -> Bool,
        started_on -> Nullable<Date>,
        started_on_precision -> Nullable<Text>,
        ended_on -> Nullable<Date>,
        ended_on_precision -> Nullable<Text>,
        is_current -> Bool,
        career_position -> Nullable<Int4>,
        reported_years -> Nullable<Int4>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        is_leader -> Bool,
        version -> Int4,
    }
}

diesel::table! {
    organizations (id) {
        id -> Int8,
        slug -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<Int8>,
        country -> Nullable<Text>,
        website -> Nullable<Text>,
        founded_on -> Nullable<Date>,
        founded_on_precision -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    people (id) {
        id -> Int8,
        slug -> Text,
        name -> Text,
        aliases -> Array<Text>,
        bio -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    publications (id) {
        id -> Int8,
        slug -> Text,
        title -> Text,
        published_on -> Nullable<Date>,
        published_on_precision -> Nullable<Text>,
        venue -> Nullable<Text>,
        url -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    sources (id) {
        id -> Int8,
        url -> Text,
        title -> Nullable<Text>,
        publisher -> Nullable<Text>,
        published_on -> Nullable<Date>,
        published_on_precision -> Nullable<Text>,
        created_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Int8,
        name -> Text,
        role -> Text,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        changed_at -> Timestamptz,
        token_id -> Nullable<Int8>,
        actor -> Text,
        action -> Text,
        entity_type -> Text,
        entity_id -> Int8,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
    }
}

diesel::joinable!(audit_log -> api_tokens (token_id));
diesel::joinable!(authorship_sources -> authorships (authorship_id));
diesel::joinable!(authorship_sources -> sources (source_id));
diesel::joinable!(authorships -> organizations (affiliation_id));
diesel::joinable!(authorships -> people (person_id));
diesel::joinable!(authorships -> publications (publication_id));
diesel::joinable!(employment_sources -> employments (employment_id));
diesel::joinable!(employment_sources -> sources (source_id));
diesel::joinable!(employments -> organizations (organization_id));
diesel::joinable!(employments -> people (person_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_tokens,
    audit_log,
    authorship_sources,
    authorships,
    employment_attestations,
    employment_sources,
    employments,
    organizations,
    people,
    publications,
    sources,
);

diesel::table! {
    employment_attestations (id) {
        id -> Int8,
        employment_id -> Int8,
        source_id -> Int8,
        claim -> Text,
        on_date -> Date,
        on_date_precision -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(employment_attestations -> sources (source_id));

diesel::table! {
    row_counts (table_name) {
        table_name -> Text,
        row_count -> Int8,
    }
}
