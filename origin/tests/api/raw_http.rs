//! HTTP/1.1 over a bare `TcpStream`, for requests no well-behaved client sends: paths with literal `..`
//! or backslashes, bodies that arrive slowly or never, bodies far larger than any limit.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// What came back: nothing (the server closed without answering), or a status and a JSON body.
#[derive(Debug)]
pub struct RawReply {
    pub status: Option<u16>,
    pub body: Value,
    /// Everything that came back, head and body.
    pub raw: Vec<u8>,
    /// Body bytes (not counting the head) the client managed to write before the answer (or the
    /// close) arrived.
    pub written: usize,
}

/// How a raw request's body is sent.
pub enum BodyPlan {
    /// Nothing after the head.
    None,
    /// `prefix`, then one byte every `every` for `bytes` bytes, then nothing more (a stalled client if
    /// `bytes` is short of the declared length).
    Dribble { prefix: Vec<u8>, bytes: usize, every: Duration },
    /// Chunked transfer-encoding: `prefix`, then `total` bytes of `fill` in 64 KiB chunks, then
    /// `suffix`, as fast as the server takes them.
    Chunked { prefix: Vec<u8>, fill: u8, total: usize, suffix: Vec<u8> },
}

/// Sends `head` (request line and headers, each ending in CRLF, without the blank line) and the body,
/// while reading the answer. Gives up after `guard`: a server that neither answers nor closes by then
/// is holding the connection.
pub async fn exchange(port: u16, head: &str, body: BodyPlan, guard: Duration) -> RawReply {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.expect("the origin accepts");
    let (mut reader, mut writer) = stream.into_split();
    let head = format!("{head}\r\n");
    // Shared, because the writer is aborted once the answer is in: it must not drop its half of the
    // connection earlier (a client's FIN ends the exchange for the server).
    let written = Arc::new(AtomicUsize::new(0));
    let count = written.clone();
    let writer = tokio::spawn(async move {
        if writer.write_all(head.as_bytes()).await.is_err() {
            return std::future::pending().await;
        }
        match body {
            BodyPlan::None => {}
            BodyPlan::Dribble { prefix, bytes, every } => {
                if writer.write_all(&prefix).await.is_err() {
                    return std::future::pending().await;
                }
                count.fetch_add(prefix.len(), Ordering::SeqCst);
                for _ in 0..bytes {
                    tokio::time::sleep(every).await;
                    if writer.write_all(b"x").await.is_err() || writer.flush().await.is_err() {
                        return std::future::pending().await;
                    }
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }
            BodyPlan::Chunked { prefix, fill, total, suffix } => {
                if !send_chunk(&mut writer, &prefix).await {
                    return std::future::pending().await;
                }
                count.fetch_add(prefix.len(), Ordering::SeqCst);
                let chunk = vec![fill; 64 * 1024];
                let mut sent = 0;
                while sent < total {
                    if !send_chunk(&mut writer, &chunk).await {
                        return std::future::pending().await;
                    }
                    sent += chunk.len();
                    count.fetch_add(chunk.len(), Ordering::SeqCst);
                }
                if send_chunk(&mut writer, &suffix).await && writer.write_all(b"0\r\n\r\n").await.is_ok() {
                    count.fetch_add(suffix.len(), Ordering::SeqCst);
                }
            }
        }
        // Stay connected (a stalled client, or one waiting for its answer) until aborted.
        std::future::pending::<()>().await;
    });
    let answer = tokio::time::timeout(guard, read_response(&mut reader)).await;
    writer.abort();
    let written = written.load(Ordering::SeqCst);
    match answer {
        Ok((Some((status, body)), raw)) => RawReply { status: Some(status), body, raw, written },
        Ok((None, raw)) => RawReply { status: None, body: Value::Null, raw, written },
        Err(_) => panic!("no answer and no close within {guard:?}: the server is holding the connection"),
    }
}

/// One chunk of a chunked body; false once the server stopped taking bytes.
async fn send_chunk(writer: &mut tokio::net::tcp::OwnedWriteHalf, bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        // A zero-length chunk would end the body.
        return true;
    }
    let frame = [format!("{:x}\r\n", bytes.len()).as_bytes(), bytes, b"\r\n"].concat();
    writer.write_all(&frame).await.is_ok()
}

/// Reads one response: the status and JSON body (`None` if the connection closed, or reset, before a
/// whole head arrived), and the bytes read.
async fn read_response(reader: &mut tokio::net::tcp::OwnedReadHalf) -> (Option<(u16, Value)>, Vec<u8>) {
    let mut buffer = Vec::new();
    let parsed = read_into(reader, &mut buffer).await;
    (parsed, buffer)
}

async fn read_into(reader: &mut tokio::net::tcp::OwnedReadHalf, buffer: &mut Vec<u8>) -> Option<(u16, Value)> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            let status = head.split(' ').nth(1)?.parse().ok()?;
            let length: usize = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buffer.len() < end + 4 + length {
                match reader.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                }
            }
            let body = buffer.get(end + 4..).unwrap_or_default();
            return Some((status, serde_json::from_slice(body).unwrap_or(Value::Null)));
        }
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// `GET <target>` exactly as written (no normalisation of `..`, `%2e`, backslashes).
pub async fn get_raw(port: u16, target: &str) -> RawReply {
    let head = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    exchange(port, &head, BodyPlan::None, Duration::from_secs(10)).await
}
