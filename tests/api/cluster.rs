//! A throwaway PostgreSQL cluster for fault tests: its own data directory
//! and a free port, started and stopped at will, removed on drop.
//!
//! initdb refuses to run as root, so as root every command runs as the
//! `postgres` system user (through `runuser`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct Cluster {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A free port below the kernel's ephemeral range, for a cluster that may
/// stop and start again on the same port: an ephemeral port could be taken
/// meanwhile as the local end of any outgoing connection on the machine.
fn cluster_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let first_ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    let low = 20_000.min(first_ephemeral / 2);
    let span = first_ephemeral - low;
    // Spread processes apart so two test binaries rarely probe the same
    // ports, and each call in a process past the last: a port found free is
    // not taken until its cluster starts.
    let start = std::process::id()
        .wrapping_mul(97)
        .wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed));
    (0..span)
        .map(|step| low + (start % span + step) % span)
        .filter_map(|port| u16::try_from(port).ok())
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port below the ephemeral range")
}

/// The newest installed PostgreSQL's programs.
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed under /usr/lib/postgresql")
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb").1
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

impl Cluster {
    /// Creates the cluster (not started) on a free port.
    pub fn init() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "talentgraph_fault_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let cluster = Cluster {
            port: cluster_port(),
            dir,
            bin: postgres_bin(),
            as_postgres: is_root(),
        };
        let _ = std::fs::remove_dir_all(&cluster.dir);
        cluster.run("mkdir", &["-p", &cluster.path(&cluster.dir)]);
        let initdb = cluster.bin.join("initdb");
        cluster.run(
            &cluster.path(&initdb),
            &[
                "-D",
                &cluster.path(&cluster.data()),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
        );
        cluster
    }

    /// A hot standby of `primary` (which must be running), made with
    /// `pg_basebackup` and streaming from it once started.
    pub fn standby_of(primary: &Cluster) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "talentgraph_standby_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let standby = Cluster {
            port: cluster_port(),
            dir,
            bin: primary.bin.clone(),
            as_postgres: primary.as_postgres,
        };
        let _ = std::fs::remove_dir_all(&standby.dir);
        standby.run("mkdir", &["-p", &standby.path(&standby.dir)]);
        let port = primary.port.to_string();
        standby.run(
            &standby.path(&standby.bin.join("pg_basebackup")),
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &standby.path(&standby.data()),
                "-R",
                "-X",
                "stream",
                // A spread checkpoint paces itself over minutes even on an
                // empty cluster; a test has no load to spare it from.
                "--checkpoint=fast",
                "--no-sync",
            ],
        );
        standby
    }

    /// Runs `sql` with psql on `database` and returns its unaligned output.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let port = self.port.to_string();
        let output = self
            .command(
                &self.path(&self.bin.join("psql")),
                &[
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-U",
                    "postgres",
                    "-d",
                    database,
                    "-AtX",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-c",
                    sql,
                ],
            )
            .output()
            .unwrap_or_else(|e| panic!("cannot run psql: {e}"));
        assert!(
            output.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.path(&self.dir)
        );
        let log = self.dir.join("server.log");
        let started = self.try_pg_ctl(&[
            "start",
            "-w",
            "-t",
            "60",
            "-o",
            &options,
            "-l",
            &self.path(&log),
        ]);
        if let Err(failure) = started {
            let server_log = self
                .command("cat", &[&self.path(&log)])
                .output()
                .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
                .unwrap_or_default();
            panic!("{failure}\nserver.log:\n{server_log}");
        }
    }

    /// A fast shutdown: open connections are terminated, as in a restart.
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-w", "-t", "60", "-m", "fast"]);
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn pg_ctl(&self, args: &[&str]) {
        if let Err(failure) = self.try_pg_ctl(args) {
            panic!("{failure}");
        }
    }

    fn try_pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        let data = self.path(&self.data());
        let mut all = vec!["-D", &data];
        all.extend_from_slice(args);
        self.try_run(&self.path(&self.bin.join("pg_ctl")), &all)
    }

    fn path(&self, path: &Path) -> String {
        path.to_str().expect("a UTF-8 path").to_owned()
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", program]).args(args);
            command
        } else {
            let mut command = Command::new(program);
            command.args(args);
            command
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        if let Err(failure) = self.try_run(program, args) {
            panic!("{failure}");
        }
    }

    fn try_run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let output = self
            .command(program, args)
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        if output.status.success() {
            return Ok(());
        }
        Err(format!(
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.path(&self.data());
        let pg_ctl = self.path(&self.bin.join("pg_ctl"));
        let _ = self
            .command(&pg_ctl, &["-D", &data, "stop", "-m", "immediate"])
            .output();
        let _ = self.command("rm", &["-rf", &self.path(&self.dir)]).output();
    }
}
