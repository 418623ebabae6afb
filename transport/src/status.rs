//! The keepalive message every node sends once per `keepalive`:
//!
//! ```text
//! t=status st=active dt=1388 protocol=1 src=node2 (1)srcuuid=<16 bytes>
//! seq=b0 hg=6b02c875 ts=6b02cc88 ld=1.83 1.84 1.74 4/122 18193 ttl=3
//! ```
//!
//! Numbers are lowercase hex without prefix: `dt` is the sender's
//! deadtime in ms, `seq` its packet sequence number, `hg` its generation
//! (`hb_generation`), `ts` its clock in Unix seconds. `ld` is the sender's
//! /proc/loadavg. Field order is the real one; `auth` is appended when
//! signing ([`crate::wire::Message::sign`]).

use uuid::Uuid;

use crate::wire::{Message, Value};

/// A typed `t=status` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// `active`, `up`, `init`, `dead`... the sender's own status.
    pub st: String,
    pub deadtime_ms: u64,
    pub protocol: u32,
    pub src: String,
    pub srcuuid: Uuid,
    pub seq: u64,
    pub generation: u64,
    pub timestamp: u64,
    pub load: String,
    pub ttl: u32,
}

/// Why a message is not a well-formed status message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("not a status message (t={0:?})")]
    NotStatus(Option<String>),
    #[error("status message: field {0} missing or malformed")]
    Field(&'static str),
}

fn hex_field(m: &Message, name: &'static str) -> Result<u64, StatusError> {
    let s = m.get_str(name).ok_or(StatusError::Field(name))?;
    if s.is_empty() || s.len() > 16 {
        return Err(StatusError::Field(name));
    }
    u64::from_str_radix(s, 16).map_err(|_| StatusError::Field(name))
}

impl Status {
    pub fn to_message(&self) -> Message {
        Message::new()
            .with_str("t", "status")
            .with_str("st", &self.st)
            .with_str("dt", &format!("{:x}", self.deadtime_ms))
            .with_str("protocol", &self.protocol.to_string())
            .with_str("src", &self.src)
            .with("srcuuid", Value::Binary(self.srcuuid.as_bytes().to_vec()))
            .with_str("seq", &format!("{:x}", self.seq))
            .with_str("hg", &format!("{:x}", self.generation))
            .with_str("ts", &format!("{:x}", self.timestamp))
            .with_str("ld", &self.load)
            .with_str("ttl", &self.ttl.to_string())
    }

    pub fn from_message(m: &Message) -> Result<Status, StatusError> {
        match m.get_str("t") {
            Some("status") => {}
            other => return Err(StatusError::NotStatus(other.map(str::to_string))),
        }
        let text = |name: &'static str| m.get_str(name).map(str::to_string).ok_or(StatusError::Field(name));
        let dec = |name: &'static str| -> Result<u32, StatusError> {
            m.get_str(name).and_then(|s| s.parse().ok()).ok_or(StatusError::Field(name))
        };
        let uuid = m.get_binary("srcuuid").and_then(|b| Uuid::from_slice(b).ok()).ok_or(StatusError::Field("srcuuid"))?;
        Ok(Status {
            st: text("st")?,
            deadtime_ms: hex_field(m, "dt")?,
            protocol: dec("protocol")?,
            src: text("src")?,
            srcuuid: uuid,
            seq: hex_field(m, "seq")?,
            generation: hex_field(m, "hg")?,
            timestamp: hex_field(m, "ts")?,
            load: text("ld")?,
            ttl: dec("ttl")?,
        })
    }
}
