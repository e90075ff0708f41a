//! The SQLSTATE of every error PostgreSQL sends, kept where diesel can see it.
//!
//! What an error means to a client must be decided from its SQLSTATE (and
//! constraint name), never from its message: the message is in the server's
//! `lc_messages` language, and only English by default. But diesel-async
//! drops the SQLSTATE: `DatabaseErrorInformation` offers the message, detail,
//! hint, table, column and constraint, and a code only for the eight kinds
//! `DatabaseErrorKind` names; a statement timeout (57014), a lock timeout
//! (55P03) or a server shutting down (57P01) all arrive as `Unknown`.
//!
//! So the code travels in the message. Every connection reads the server
//! through [`Tagged`], which rewrites each ErrorResponse's message field from
//! `text` to `SQLSTATE 57014: text`, taking the code from the same response's
//! code field; [`sqlstate`] reads it back. The rewrite is of PostgreSQL's
//! wire protocol, not of its words: messages are framed by their length, the
//! code is the `C` field, and nothing else changes. A connection opened any
//! other way has no tag, and its errors have no SQLSTATE here.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::error::SqlState;

const TAG: &str = "SQLSTATE ";
/// A backend message's type byte and length.
const HEADER: usize = 5;
const ERROR_RESPONSE: u8 = b'E';
const CODE_FIELD: u8 = b'C';
const MESSAGE_FIELD: u8 = b'M';

/// The SQLSTATE PostgreSQL gave `error`, if it came over a tagged connection.
pub fn sqlstate(error: &diesel::result::Error) -> Option<SqlState> {
    match error {
        diesel::result::Error::DatabaseError(_, info) => code_of(info.message()),
        _ => None,
    }
}

/// The message as PostgreSQL wrote it, without its tag.
pub fn untagged(message: &str) -> &str {
    match code_of(message) {
        Some(_) => &message[TAG.len() + 5 + 2..],
        None => message,
    }
}

fn code_of(message: &str) -> Option<SqlState> {
    let code = message.strip_prefix(TAG)?.get(..5)?;
    let well_formed = code
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        && message[TAG.len() + 5..].starts_with(": ");
    well_formed.then(|| SqlState::from_code(code))
}

/// A stream from PostgreSQL whose ErrorResponses carry their SQLSTATE in
/// their message (see the module documentation). Writes pass untouched.
pub struct Tagged<S> {
    inner: S,
    framing: Framing,
    /// Bytes read past the start of an error message, in order, once that
    /// message is rewritten: handed out before anything else is read.
    pending: Vec<u8>,
    pending_from: usize,
}

/// Where the reader is in the stream of messages. Every message starts with
/// a type byte and a four-byte length that counts itself and the body.
#[derive(Default)]
struct Framing {
    header: [u8; HEADER],
    header_len: usize,
    body_left: usize,
    /// The error message being collected, from its type byte on.
    error: Option<Vec<u8>>,
}

impl Framing {
    /// Whether `next` (the next byte of the stream) passes as it is: it is
    /// not part of an error message.
    fn passes(&self, next: u8) -> bool {
        self.error.is_none()
            && (self.header_len > 0 || self.body_left > 0 || next != ERROR_RESPONSE)
    }

    /// Consumes a prefix of `bytes` (at least one byte) that lies within one
    /// message, and returns its length. A finished error message is
    /// returned rewritten, as the bytes to hand out in its place.
    fn consume(&mut self, bytes: &[u8]) -> (usize, Option<Vec<u8>>) {
        if self.error.is_none()
            && self.header_len == 0
            && self.body_left == 0
            && bytes[0] == ERROR_RESPONSE
        {
            self.error = Some(Vec::with_capacity(256));
        }
        if let Some(error) = &mut self.error {
            let wanted = if error.len() < HEADER {
                HEADER - error.len()
            } else {
                message_len(error) - error.len()
            };
            let taken = wanted.min(bytes.len());
            error.extend_from_slice(&bytes[..taken]);
            if error.len() >= HEADER && error.len() == message_len(error) {
                let finished = self.error.take().unwrap_or_default();
                return (taken, Some(tag(&finished).unwrap_or(finished)));
            }
            return (taken, None);
        }
        if self.body_left > 0 {
            let taken = self.body_left.min(bytes.len());
            self.body_left -= taken;
            return (taken, None);
        }
        let taken = (HEADER - self.header_len).min(bytes.len());
        self.header[self.header_len..self.header_len + taken].copy_from_slice(&bytes[..taken]);
        self.header_len += taken;
        if self.header_len == HEADER {
            self.header_len = 0;
            self.body_left = body_len(&self.header);
        }
        (taken, None)
    }
}

/// The body length a header announces (its length counts its own 4 bytes).
fn body_len(header: &[u8]) -> usize {
    let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    (length as usize).saturating_sub(4)
}

/// A whole message's length, from its header.
fn message_len(message: &[u8]) -> usize {
    HEADER + body_len(message)
}

/// `message` (a whole ErrorResponse) with `SQLSTATE <code>: ` before its
/// message field; `None` when it lacks a code or a message, or is malformed.
fn tag(message: &[u8]) -> Option<Vec<u8>> {
    let mut fields = Vec::new();
    let mut rest = &message[HEADER..];
    loop {
        let (&kind, after) = rest.split_first()?;
        if kind == 0 {
            break;
        }
        let end = after.iter().position(|&b| b == 0)?;
        fields.push((kind, &after[..end]));
        rest = &after[end + 1..];
    }
    let code = fields.iter().find(|(kind, _)| *kind == CODE_FIELD)?.1;
    fields.iter().find(|(kind, _)| *kind == MESSAGE_FIELD)?;
    let mut body = Vec::with_capacity(message.len() + TAG.len() + code.len() + 2);
    for (kind, value) in fields {
        body.push(kind);
        if kind == MESSAGE_FIELD {
            body.extend_from_slice(TAG.as_bytes());
            body.extend_from_slice(code);
            body.extend_from_slice(b": ");
        }
        body.extend_from_slice(value);
        body.push(0);
    }
    body.push(0);
    let length = u32::try_from(body.len() + 4).ok()?;
    let mut tagged = Vec::with_capacity(HEADER + body.len());
    tagged.push(ERROR_RESPONSE);
    tagged.extend_from_slice(&length.to_be_bytes());
    tagged.extend_from_slice(&body);
    Some(tagged)
}

impl<S> Tagged<S> {
    pub fn new(inner: S) -> Self {
        Tagged {
            inner,
            framing: Framing::default(),
            pending: Vec::new(),
            pending_from: 0,
        }
    }

    /// Takes `bytes` (read past the start of an error message) through the
    /// framing into `pending`, rewriting each error message as it completes.
    fn hold(&mut self, bytes: &[u8]) {
        let mut at = 0;
        while at < bytes.len() {
            let passes = self.framing.passes(bytes[at]);
            let (taken, finished) = self.framing.consume(&bytes[at..]);
            if passes {
                self.pending.extend_from_slice(&bytes[at..at + taken]);
            }
            if let Some(message) = finished {
                self.pending.extend_from_slice(&message);
            }
            at += taken;
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tagged<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.pending_from < this.pending.len() {
                let n = buf.remaining().min(this.pending.len() - this.pending_from);
                buf.put_slice(&this.pending[this.pending_from..this.pending_from + n]);
                this.pending_from += n;
                if this.pending_from == this.pending.len() {
                    this.pending.clear();
                    this.pending_from = 0;
                }
                return Poll::Ready(Ok(()));
            }
            let start = buf.filled().len();
            ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
            let end = buf.filled().len();
            if end == start {
                // The end of the stream (or a caller with no room).
                return Poll::Ready(Ok(()));
            }
            // Everything before the first byte of an error message goes out
            // as it was read, without a copy; from there on, through `hold`.
            let mut at = start;
            while at < end {
                let next = buf.filled()[at];
                if !this.framing.passes(next) {
                    break;
                }
                at += this.framing.consume(&buf.filled()[at..end]).0;
            }
            if at < end {
                let held = buf.filled()[at..end].to_vec();
                buf.set_filled(at);
                this.hold(&held);
            }
            if buf.filled().len() > start {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tagged<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use tokio::io::AsyncReadExt;

    use super::*;

    /// A stream that hands out its bytes in the chunks given.
    struct Chunks(VecDeque<Vec<u8>>);

    impl AsyncRead for Chunks {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if let Some(mut chunk) = self.0.pop_front() {
                let n = chunk.len().min(buf.remaining());
                buf.put_slice(&chunk[..n]);
                if n < chunk.len() {
                    self.0.push_front(chunk.split_off(n));
                }
            }
            Poll::Ready(Ok(()))
        }
    }

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut message = vec![kind];
        message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        message.extend_from_slice(body);
        message
    }

    fn error_response(fields: &[(u8, &str)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (kind, value) in fields {
            body.push(*kind);
            body.extend_from_slice(value.as_bytes());
            body.push(0);
        }
        body.push(0);
        message(b'E', &body)
    }

    /// A stream as a server might send it: rows (whose bytes include `E`),
    /// an error, a notice, and ReadyForQuery.
    fn conversation(message_text: &str) -> Vec<u8> {
        [
            message(b'D', b"\0\x01\0\0\0\x03E\0E"),
            message(b'I', b""),
            error_response(&[
                (b'S', "ERREUR"),
                (b'V', "ERROR"),
                (b'C', "57014"),
                (b'M', message_text),
            ]),
            message(b'N', b"SNOTICE\0C00000\0Mhello\0\0"),
            message(b'Z', b"I"),
        ]
        .concat()
    }

    async fn read_through(bytes: &[u8], chunk: usize, buffer: usize) -> Vec<u8> {
        let chunks = bytes.chunks(chunk).map(<[u8]>::to_vec).collect();
        let mut tagged = Tagged::new(Chunks(chunks));
        let mut out = Vec::new();
        let mut buf = vec![0; buffer];
        loop {
            let n = tagged.read(&mut buf).await.expect("read");
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[tokio::test]
    async fn error_messages_gain_their_sqlstate_and_nothing_else_changes() {
        let text = "annulation de la requête à cause du délai écoulé";
        let expected = conversation(&format!("SQLSTATE 57014: {text}"));
        // However the bytes arrive, and however few the reader takes at once.
        for chunk in [1, 2, 3, 5, 7, 64, 4096] {
            for buffer in [1, 4, 16, 8192] {
                assert_eq!(
                    read_through(&conversation(text), chunk, buffer).await,
                    expected,
                    "chunks of {chunk}, reads of {buffer}"
                );
            }
        }
    }

    #[tokio::test]
    async fn an_error_without_a_code_passes_untouched() {
        let error = error_response(&[(b'S', "ERROR"), (b'M', "no code")]);
        assert_eq!(read_through(&error, 3, 16).await, error);
    }

    #[test]
    fn the_code_is_read_back_from_a_tagged_message_only() {
        let tagged = "SQLSTATE 55P03: impossible d'acquérir le verrou";
        assert_eq!(code_of(tagged), Some(SqlState::LOCK_NOT_AVAILABLE));
        assert_eq!(untagged(tagged), "impossible d'acquérir le verrou");
        for plain in [
            "canceling statement due to lock timeout",
            "SQLSTATE 5501: short",
            "SQLSTATE 55p03: lower case",
            "SQLSTATE 55P03 no colon",
        ] {
            assert_eq!(code_of(plain), None, "{plain}");
            assert_eq!(untagged(plain), plain);
        }
    }
}
