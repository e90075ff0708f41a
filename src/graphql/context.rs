//! What resolvers find in the request context: the pool (schema data) and the
//! per-request batch loader (request data). Both are always set by
//! `build_schema` and the HTTP adapter; a missing one is a bug, reported as
//! `INTERNAL` rather than a panic.

use async_graphql::Context;

use super::error::{ApiError, ApiResult};
use super::loaders::DbLoader;
use crate::db::DbPool;

pub trait ContextExt {
    fn pool(&self) -> ApiResult<&DbPool>;
    fn loader(&self) -> ApiResult<&DbLoader>;
}

impl ContextExt for Context<'_> {
    fn pool(&self) -> ApiResult<&DbPool> {
        self.data::<DbPool>()
            .map_err(|e| ApiError::internal(e.message))
    }

    fn loader(&self) -> ApiResult<&DbLoader> {
        self.data::<DbLoader>()
            .map_err(|e| ApiError::internal(e.message))
    }
}
