//! crmd's connections to the local cib daemon (`$HA_RUNDIR/cib.sock`),
//! speaking `tools::cib_live`'s frames asynchronously: one connection for
//! calls (answered in order, so one call at a time is enough) and one
//! subscribed to diff notifications, read by its own task.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use cib::Element;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tools::cib_live::{frame, frame_len, unframe, Answer, Call, Op};
use tools::cibadmin::ops::{Command, Request};

/// How long a call may take before crmd gives up on its cib daemon.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

async fn read_frame(s: &mut UnixStream) -> anyhow::Result<Option<Element>> {
    let mut header = [0u8; 4];
    match s.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let len = frame_len(header).map_err(|e| anyhow!(e))?;
    let mut body = vec![0; len];
    s.read_exact(&mut body).await?;
    unframe(&body).map(Some).map_err(|e| anyhow!("cib sent a bad frame: {e}"))
}

/// The call connection.
pub struct CibClient {
    stream: UnixStream,
    next_call: u64,
}

/// Connects, retrying for `wait` while the daemon starts.
pub async fn connect(socket: &Path, wait: Duration) -> anyhow::Result<UnixStream> {
    let start = tokio::time::Instant::now();
    loop {
        match UnixStream::connect(socket).await {
            Ok(s) => return Ok(s),
            Err(e) if start.elapsed() >= wait => {
                return Err(e).with_context(|| format!("cannot reach the cib at {}", socket.display()))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn call(op: Op, request: Request) -> Call {
    Call { op, request, client: "crmd".into(), user: "hacluster".into() }
}

impl CibClient {
    pub async fn connect(socket: &Path, wait: Duration) -> anyhow::Result<CibClient> {
        Ok(CibClient { stream: connect(socket, wait).await?, next_call: 1 })
    }

    /// One call and its answer. An `Err` means the daemon is gone or
    /// broken (crmd exits); refusals are `Ok(Answer::Failed)`.
    pub async fn call(&mut self, call: &Call) -> anyhow::Result<Answer> {
        let id = self.next_call;
        self.next_call += 1;
        self.stream.write_all(&frame(&call.to_xml(id))).await.context("cib connection")?;
        let answer = tokio::time::timeout(CALL_TIMEOUT, async {
            loop {
                let Some(e) = read_frame(&mut self.stream).await? else { bail!("the cib closed the connection") };
                if e.name == "cib_notify" {
                    continue;
                }
                let (got, answer) = Answer::from_xml(&e).map_err(|e| anyhow!(e))?;
                if got == id {
                    return Ok(answer);
                }
            }
        })
        .await
        .map_err(|_| anyhow!("the cib did not answer within {CALL_TIMEOUT:?}"))??;
        Ok(answer)
    }

    /// The whole local CIB.
    pub async fn query(&mut self) -> anyhow::Result<Element> {
        let req = Request { command: Some(Command::Query), ..Request::default() };
        match self.call(&call(Op::Cib(Command::Query), req)).await? {
            Answer::Ok(Some(e)) => Ok(e),
            other => bail!("cib query failed: {other:?}"),
        }
    }

    /// `cibadmin -M -c [-o section] -X input`: merge `input` in, creating
    /// what is missing. Returns the answer (failures are logged by callers).
    pub async fn modify(&mut self, section: Option<&str>, input: Element) -> anyhow::Result<Answer> {
        let req = Request {
            command: Some(Command::Modify),
            section: section.map(str::to_string),
            input: Some(input),
            allow_create: true,
            ..Request::default()
        };
        self.call(&call(Op::Cib(Command::Modify), req)).await
    }

    /// `cibadmin -D -A xpath` for every match; nothing matching is fine.
    pub async fn delete_xpath(&mut self, xpath: &str) -> anyhow::Result<Answer> {
        let req = Request {
            command: Some(Command::Delete),
            section: Some(xpath.to_string()),
            xpath: true,
            multiple: true,
            ..Request::default()
        };
        self.call(&call(Op::Cib(Command::Delete), req)).await
    }
}

/// Subscribes a second connection to diff notifications; the receiver
/// yields each `<diff>` and closes when the daemon goes away.
pub async fn notifications(socket: &Path, wait: Duration) -> anyhow::Result<mpsc::UnboundedReceiver<Element>> {
    let mut stream = connect(socket, wait).await?;
    let req = Request::default();
    stream.write_all(&frame(&call(Op::Notify, req).to_xml(1))).await?;
    // The subscription's answer comes first.
    match read_frame(&mut stream).await? {
        Some(e) if e.name == "cib_reply" => {}
        other => bail!("the cib refused the notify subscription: {other:?}"),
    }
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(e)) = read_frame(&mut stream).await {
            if e.name == "cib_notify" {
                if let Some(diff) = e.elements().next() {
                    if tx.send(diff.clone()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    Ok(rx)
}
