//! Builds the pool, the schema and the actix HTTP server on a bound listener.
//! Binding happens before the server runs, so callers (and tests, on port 0)
//! learn the real port.

use std::net::TcpListener;

use actix_web::{App, HttpServer, web};

use crate::config::Config;
use crate::db::{self, StatementCounter};
use crate::graphql;

/// A server bound to its port, ready to run.
pub struct Application {
    pub port: u16,
    pub statements: StatementCounter,
    server: actix_web::dev::Server,
}

impl Application {
    /// Binds `config.listen` (port 0 picks a free port) and builds the app.
    pub fn build(config: &Config) -> anyhow::Result<Self> {
        let statements = StatementCounter::default();
        let pool = db::build_pool(
            &config.database_url,
            config.db_pool_size,
            statements.clone(),
        )?;
        let schema = graphql::build_schema_with(Some(pool.clone()), config.http.introspection);
        let guard = web::Data::new(crate::http::Guard::new(&schema.sdl(), &config.http));
        let http_config = web::Data::new(config.http.clone());
        let listener = TcpListener::bind(config.listen)?;
        let port = listener.local_addr()?.port();
        let schema = web::Data::new(schema);
        let pool = web::Data::new(pool);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(schema.clone())
                .app_data(pool.clone())
                .app_data(guard.clone())
                .app_data(http_config.clone())
                .wrap(crate::http::cors(&http_config.cors_origins))
                .wrap(actix_web::middleware::Compress::default())
                .configure(crate::http::configure)
        })
        .workers(config.http_workers)
        .shutdown_timeout(5)
        .listen(listener)?
        .run();
        Ok(Application {
            port,
            statements,
            server,
        })
    }

    /// Serves until the process is told to stop.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
