//! The GraphQL schema: one file per entity, the query root, the batch loaders
//! and the error mapping. The schema is built once ([`build_schema`]); the HTTP
//! adapter adds a fresh [`loaders::DbLoader`] to every request.

pub mod attestation;
pub mod auth;
pub mod authorship;
pub mod certainty;
pub mod context;
pub mod eager;
pub mod employment;
pub mod error;
pub mod filter;
pub mod headcount;
pub mod ids;
pub mod input;
pub mod lexer;
pub mod limits;
pub mod live;
pub mod loaders;
pub mod mutation;
pub mod organization;
pub mod pagination;
pub mod person;
pub mod projection;
pub mod publication;
pub mod query;
pub mod refs;
pub mod retention;
pub mod roots;
pub mod scalars;
pub mod search;
pub mod source;
pub mod talent_flow;

use async_graphql::Schema;

use crate::db::DbPool;

pub type AppSchema = Schema<QueryRoot, mutation::MutationRoot, live::Subscription>;

/// The query root: public reads, and the admin-only fields.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    query::Query,
    mutation::AdminQuery,
    live::ChangesQuery,
    roots::RootQuery,
);

/// The people <-> organizations graph is cyclic, so nesting must be bounded.
pub const MAX_DEPTH: usize = 16;
pub const MAX_COMPLEXITY: usize = 5_000;

/// Builds the schema. `pool` is `None` only to print the SDL.
pub fn build_schema(pool: Option<DbPool>) -> AppSchema {
    build_schema_with(pool, true, false)
}

/// Builds the schema; without `introspection`, "Did you mean …" suggestions
/// go too, since they would reveal field names one typo at a time.
///
/// No extension is registered unless `debug_faults` (debug builds only): with
/// any extension at all, async-graphql wraps every field of every object in
/// the extension chain, a boxed future per field. The error codes and the
/// operation's name are handled around execution instead
/// (`observability::execute_graphql`).
pub fn build_schema_with(
    pool: Option<DbPool>,
    introspection: bool,
    debug_faults: bool,
) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        mutation::MutationRoot::default(),
        live::Subscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(MAX_DEPTH * 2)
    .limit_directives(8)
    // async-graphql's `Connection` object has no description of its own (its
    // name comes from `ConnectionNameType`, which cannot carry one), so each
    // connection's is set here, on the type the query root registered.
    .override_output_type_description::<query::PersonConnection>(
        "A page of people, with cursors to fetch the next page and the total count.",
    )
    .override_output_type_description::<query::OrganizationConnection>(
        "A page of organizations, with cursors to fetch the next page and the total count.",
    )
    .override_output_type_description::<query::PublicationConnection>(
        "A page of publications, with cursors to fetch the next page and the total count.",
    )
    .override_output_type_description::<organization::EmploymentConnection>(
        "A page of stints, with cursors to fetch the next page and the total count.",
    )
    .override_output_type_description::<live::MoveConnection>(
        "A page of the moves behind a talent flow, with cursors to fetch the next page and the total count.",
    )
    .override_output_type_description::<live::ChangeConnection>(
        "A page of the change feed, oldest first, with cursors to read on from.",
    )
    .override_output_type_description::<roots::SourceConnection>(
        "A page of sources, with cursors to fetch the next or previous page and the total count.",
    )
    .override_output_type_description::<mutation::AuditEntryConnection>(
        "A page of audit entries, newest first, with cursors to fetch the next page and the total count.",
    );
    if cfg!(debug_assertions) && debug_faults {
        builder = builder.extension(crate::observability::DebugFaultInjection);
    }
    if let Some(pool) = pool {
        builder = builder.data(pool);
    }
    if !introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL that `talentgraph schema` prints and `schema.graphql` holds.
/// Scalars carry `@specifiedBy(url:)`, so code generators and linters know
/// what `Date`, `PartialDate` and `DateTime` hold.
pub fn sdl() -> String {
    build_schema(None)
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
