//! Clients of the local attrd: blocking ([`Client`], for the tools) and
//! async ([`AsyncClient`], for daemons such as crmd and pingd). Both send
//! [`Request`]s over `$HA_RUNDIR/attrd.sock` and read one [`Reply`] each.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use tools::cib_live::{frame, frame_len, unframe};

use crate::error::Error;
use crate::protocol::{NodeValue, Reply, Request};

/// The default wait for an answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

fn decode(body: &[u8]) -> Result<Vec<NodeValue>, Error> {
    let e = unframe(body).map_err(Error::Protocol)?;
    match Reply::from_xml(&e).map_err(Error::Protocol)? {
        Reply::Ok(v) => Ok(v),
        Reply::NoSuch => Err(Error::NoSuch),
        Reply::Error(why) => Err(Error::Refused(why)),
    }
}

fn io_err(e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Error::Timeout,
        _ => Error::NotConnected(e),
    }
}

fn update_req(node: Option<&str>, name: &str, value: &str, dampen_ms: Option<u64>) -> Request {
    Request::Update { node: node.map(str::to_string), name: name.to_string(), value: value.to_string(), dampen_ms }
}

/// `value++` (by 1) or `value+=N`, the increments attrd expands.
pub fn increment_value(by: i64) -> String {
    if by == 1 {
        "value++".to_string()
    } else {
        format!("value+={by}")
    }
}

/// A blocking connection.
pub struct Client {
    stream: UnixStream,
}

impl Client {
    pub fn connect(socket: &Path, timeout: Duration) -> Result<Client, Error> {
        let stream = UnixStream::connect(socket).map_err(Error::NotConnected)?;
        stream.set_read_timeout(Some(timeout)).map_err(Error::NotConnected)?;
        Ok(Client { stream })
    }

    pub fn request(&mut self, req: &Request) -> Result<Vec<NodeValue>, Error> {
        self.stream.write_all(&frame(&req.to_xml())).map_err(Error::NotConnected)?;
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).map_err(io_err)?;
        let mut body = vec![0; frame_len(header).map_err(Error::Protocol)?];
        self.stream.read_exact(&mut body).map_err(io_err)?;
        decode(&body)
    }

    /// Sets `name` of `node` (None: attrd's own node).
    pub fn update(&mut self, node: Option<&str>, name: &str, value: &str) -> Result<(), Error> {
        self.request(&update_req(node, name, value, None)).map(drop)
    }

    /// Adds `by` to the value (a fail count's `value++`).
    pub fn increment(&mut self, node: Option<&str>, name: &str, by: i64) -> Result<(), Error> {
        self.update(node, name, &increment_value(by))
    }

    pub fn delete(&mut self, node: Option<&str>, name: &str) -> Result<(), Error> {
        self.request(&Request::Delete { node: node.map(str::to_string), name: name.to_string(), dampen_ms: None }).map(drop)
    }

    /// The value on `node` (None: attrd's own node); `Err(NoSuch)` when unknown.
    pub fn query(&mut self, node: Option<&str>, name: &str) -> Result<Vec<NodeValue>, Error> {
        self.request(&Request::Query { node: node.map(str::to_string), name: name.to_string(), all: false })
    }
}

/// An async connection (tokio).
pub struct AsyncClient {
    stream: tokio::net::UnixStream,
    timeout: Duration,
}

impl AsyncClient {
    pub async fn connect(socket: &Path, timeout: Duration) -> Result<AsyncClient, Error> {
        let stream = tokio::net::UnixStream::connect(socket).await.map_err(Error::NotConnected)?;
        Ok(AsyncClient { stream, timeout })
    }

    pub async fn request(&mut self, req: &Request) -> Result<Vec<NodeValue>, Error> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let exchange = async {
            self.stream.write_all(&frame(&req.to_xml())).await.map_err(Error::NotConnected)?;
            let mut header = [0u8; 4];
            self.stream.read_exact(&mut header).await.map_err(Error::NotConnected)?;
            let mut body = vec![0; frame_len(header).map_err(Error::Protocol)?];
            self.stream.read_exact(&mut body).await.map_err(Error::NotConnected)?;
            decode(&body)
        };
        tokio::time::timeout(self.timeout, exchange).await.unwrap_or(Err(Error::Timeout))
    }

    pub async fn update(&mut self, node: Option<&str>, name: &str, value: &str) -> Result<(), Error> {
        self.request(&update_req(node, name, value, None)).await.map(drop)
    }

    pub async fn increment(&mut self, node: Option<&str>, name: &str, by: i64) -> Result<(), Error> {
        self.update(node, name, &increment_value(by)).await
    }

    pub async fn delete(&mut self, node: Option<&str>, name: &str) -> Result<(), Error> {
        self.request(&Request::Delete { node: node.map(str::to_string), name: name.to_string(), dampen_ms: None }).await.map(drop)
    }

    pub async fn query(&mut self, node: Option<&str>, name: &str) -> Result<Vec<NodeValue>, Error> {
        self.request(&Request::Query { node: node.map(str::to_string), name: name.to_string(), all: false }).await
    }
}
