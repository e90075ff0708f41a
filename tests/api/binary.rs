//! The real `talentgraph` binary as a child process, for what only the
//! process shows: starting without a database, and its log lines.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cluster::free_port;

pub struct Binary {
    pub address: String,
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Binary {
    /// `talentgraph serve` with `env` (and no `.env` values beyond it that
    /// matter: every variable the test relies on is set here).
    pub fn serve(env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_talentgraph"));
        command
            .arg("serve")
            .env("TALENTGRAPH_LISTEN", format!("127.0.0.1:{port}"))
            .env("TALENTGRAPH_HTTP_WORKERS", "1")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the binary starts");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stderr.take().expect("piped stderr");
        let lines = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().expect("log lines").push(line);
            }
        });
        Binary {
            address: format!("http://127.0.0.1:{port}"),
            child,
            stderr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Waits (bounded) until `/healthz` answers: the process is serving.
    pub async fn wait_until_serving(&self, client: &reqwest::Client) {
        for _ in 0..300 {
            if let Ok(response) = client.get(self.url("/healthz")).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the binary never served /healthz; its log:\n{}", self.log());
    }

    /// Waits (bounded) until `/readyz` answers 200: the database is migrated.
    pub async fn wait_until_ready(&self, client: &reqwest::Client) {
        for _ in 0..300 {
            if let Ok(response) = client.get(self.url("/readyz")).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the binary never became ready; its log:\n{}", self.log());
    }

    /// Sends the process a signal (`TERM`, `INT`), as `kill` does.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name}");
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.stderr.lock().expect("log lines").clone()
    }

    pub fn log(&self) -> String {
        self.log_lines().join("\n")
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
