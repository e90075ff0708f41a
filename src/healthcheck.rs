//! `talentgraph healthcheck`: the container image's `HEALTHCHECK`. Built in so
//! that the runtime image needs no curl (nor a shell, nor CA certificates):
//! one plain HTTP/1.1 GET of `/healthz` (or, with `--ready`, `/readyz`, for
//! orchestrators that gate other work on readiness) on the address the
//! server listens on.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum HealthcheckError {
    #[error("cannot reach http://{0}{1}: {2}")]
    Unreachable(SocketAddr, &'static str, std::io::Error),
    #[error("http://{0}{1} answered {2:?}")]
    Unhealthy(SocketAddr, &'static str, String),
}

/// Where to knock: the listen address, with an unspecified IP (`0.0.0.0`,
/// `::`) replaced by the loopback address of its family.
pub fn probe_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// Succeeds when `GET path` on `listen` answers 200 within `timeout` (per
/// step: connect, write, read).
pub fn check(
    listen: SocketAddr,
    path: &'static str,
    timeout: Duration,
) -> Result<(), HealthcheckError> {
    let address = probe_address(listen);
    let unreachable = |e| HealthcheckError::Unreachable(address, path, e);
    let mut stream = TcpStream::connect_timeout(&address, timeout).map_err(unreachable)?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(unreachable)?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(unreachable)?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .map_err(unreachable)?;
    // The status line is all that matters; it fits in the first read's worth.
    let mut head = Vec::new();
    let mut buffer = [0u8; 256];
    while !head.contains(&b'\n') {
        let read = stream.read(&mut buffer).map_err(unreachable)?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let status_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let status = status_line.split_whitespace().nth(1);
    if status == Some("200") {
        Ok(())
    } else {
        Err(HealthcheckError::Unhealthy(address, path, status_line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot server that answers the first request with `response`.
    fn answer_once(response: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("test fixture");
        let address = listener.local_addr().expect("test fixture");
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("test fixture");
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            stream.write_all(response.as_bytes()).expect("test fixture");
        });
        address
    }

    #[test]
    fn an_unspecified_listen_address_is_probed_on_loopback() {
        assert_eq!(
            probe_address("0.0.0.0:8080".parse().expect("test fixture")),
            "127.0.0.1:8080".parse().expect("test fixture")
        );
        assert_eq!(
            probe_address("[::]:8080".parse().expect("test fixture")),
            "[::1]:8080".parse().expect("test fixture")
        );
        assert_eq!(
            probe_address("10.0.0.5:80".parse().expect("test fixture")),
            "10.0.0.5:80".parse().expect("test fixture")
        );
    }

    #[test]
    fn a_200_is_healthy() {
        let address = answer_once("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        check(address, "/healthz", Duration::from_secs(5)).expect("test fixture");
    }

    #[test]
    fn any_other_status_is_unhealthy_and_named() {
        let address = answer_once("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
        let error = check(address, "/healthz", Duration::from_secs(5)).expect_err("unhealthy");
        assert!(error.to_string().contains("503"), "{error}");
    }

    #[test]
    fn nothing_listening_is_unhealthy() {
        let address = TcpListener::bind("127.0.0.1:0")
            .expect("test fixture")
            .local_addr()
            .expect("test fixture");
        // The listener is dropped: the port is closed.
        assert!(matches!(
            check(address, "/healthz", Duration::from_secs(5)),
            Err(HealthcheckError::Unreachable(..))
        ));
    }
}
