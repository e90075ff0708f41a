//! The API's integration tests: the real app over HTTP on a fresh PostgreSQL
//! database per test. One binary; one file per behaviour area.

mod analytics;
mod article;
mod batching;
mod binary;
mod cancelled_writes;
mod client_errors;
mod cluster;
mod columns;
mod conformance;
mod connecting;
mod contract;
mod dates;
mod differential;
mod eager;
mod exposure;
mod faults;
mod filters;
mod fuzz;
mod http;
mod interchange;
mod lifecycle;
mod limits;
mod negotiation;
mod observability;
mod pagination;
mod rate_limits;
mod reads;
mod schema_file;
mod schema_model;
mod seed;
mod support;
mod timeouts;
mod translated_errors;
mod writes;
