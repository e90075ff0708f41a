//! talentgraph: a GraphQL API that records who worked where, when, and how we know it.
//!
//! A request flows `http` -> `graphql` -> `db`: [`http`] adapts actix-web to
//! the schema built once in [`graphql`]; resolvers there load every relation
//! through batch loaders ([`graphql::loaders`]) that call the small named
//! queries in [`db`], one module per table. [`domain`] holds the rules that are
//! neither SQL nor GraphQL (partial dates, the chronology of a career).
//! [`server`] wires it together from the [`config`] and stops it gracefully
//! ([`shutdown`]); [`seed`] loads the article's data set; [`healthcheck`] is the
//! container's probe.

pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod explore;
pub mod graphql;
pub mod healthcheck;
pub mod http;
pub mod interchange;
pub mod live;
pub mod observability;
pub mod schema_diff;
pub mod seed;
pub mod server;
pub mod shutdown;
