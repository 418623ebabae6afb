//! Keeps the daemon's copy of the CIB current: a blocking thread queries
//! the local cib daemon, subscribes to its change notifications and
//! queries again after each change (a burst of changes within 100 ms is
//! one query). When the cib daemon goes away it retries every second;
//! the daemon keeps the devices it knew meanwhile.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cib::Element;
use tokio::sync::mpsc;
use tools::cib_live::{Answer, Call, LiveCib, LiveError, Op};
use tools::cibadmin::ops::{Command, Request};

fn call(op: Op) -> Call {
    let request = match op {
        Op::Cib(c) => Request {
            command: Some(c),
            ..Request::default()
        },
        _ => Request::default(),
    };
    Call {
        op,
        request,
        client: "stonithd".into(),
        user: String::new(),
    }
}

fn query(socket: &std::path::Path) -> Result<Element, String> {
    let mut c = LiveCib::connect(socket, Duration::from_secs(30)).map_err(|e| e.to_string())?;
    match c
        .call(&call(Op::Cib(Command::Query)))
        .map_err(|e| e.to_string())?
    {
        Answer::Ok(Some(root)) => Ok(root),
        other => Err(format!("query refused: {other:?}")),
    }
}

/// Starts the thread; each fresh CIB goes to `tx`. The thread ends when
/// the receiver is dropped.
pub fn spawn(socket: PathBuf, tx: mpsc::UnboundedSender<Element>) {
    std::thread::spawn(move || loop {
        if let Err(e) = watch(&socket, &tx) {
            if tx.is_closed() {
                return;
            }
            tracing::debug!("stonithd: cib watch: {e} (retrying)");
            std::thread::sleep(Duration::from_secs(1));
        }
    });
}

fn watch(socket: &std::path::Path, tx: &mpsc::UnboundedSender<Element>) -> Result<(), String> {
    // Subscribe first, then query: a change between the two is not lost.
    let mut sub = LiveCib::connect(socket, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    match sub.call(&call(Op::Notify)).map_err(|e| e.to_string())? {
        Answer::Ok(_) => {}
        other => return Err(format!("notify refused: {other:?}")),
    }
    if tx.send(query(socket)?).is_err() {
        return Ok(());
    }
    loop {
        match sub.next_notification() {
            Ok(_) => {
                // Let a burst settle, then read the whole CIB once.
                let settle = Instant::now() + Duration::from_millis(100);
                std::thread::sleep(settle.saturating_duration_since(Instant::now()));
                if tx.send(query(socket)?).is_err() {
                    return Ok(());
                }
            }
            Err(LiveError::Timeout) => {
                if tx.is_closed() {
                    return Ok(());
                }
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}
