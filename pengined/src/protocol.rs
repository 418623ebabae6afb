//! The local protocol: one request element carrying a whole CIB, one reply
//! carrying the graph. Frames are `tools::cib_live`'s (4-byte big-endian
//! length + compact XML), so the same helpers read and write them.
//!
//! ```xml
//! <pengine_request call_id="1"><cib ...>...</cib></pengine_request>
//! <pengine_reply call_id="1" rc="ok" transition_id="4" series="pe-input"
//!                input="/var/lib/heartbeat/pengine/pe-input-4.bz2" saved="true">
//!   <transition_graph ...>...</transition_graph>
//! </pengine_reply>
//! <pengine_reply call_id="2" rc="error" reason="the scheduler panicked: ..."/>
//! ```

use std::path::PathBuf;

use cib::{Element, Node};

/// A scheduling request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub call_id: u64,
    /// The whole CIB, configuration and status.
    pub cib: Element,
}

/// What the daemon computed for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    pub transition_id: u64,
    /// `pe-input`, `pe-warn` or `pe-error`.
    pub series: String,
    /// Where the input was (or, with a series max of 0, would have been) saved.
    pub input: PathBuf,
    /// False when the series' max is 0 (Pacemaker: "not saved").
    pub saved: bool,
    /// `<transition_graph>`.
    pub graph: Element,
}

/// The daemon's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Done(Done),
    /// The CIB could not be scheduled; the text says why.
    Failed(String),
}

impl Request {
    pub fn to_xml(&self) -> Element {
        Element::new("pengine_request").with_attr("call_id", self.call_id.to_string()).with_child(self.cib.clone())
    }

    pub fn from_xml(e: &Element) -> Result<Request, String> {
        if e.name != "pengine_request" {
            return Err(format!("expected <pengine_request>, got <{}>", e.name));
        }
        let call_id = e.attr("call_id").and_then(|v| v.parse().ok()).ok_or("no call_id")?;
        let cib = e.elements().next().cloned().ok_or("no CIB in the request")?;
        Ok(Request { call_id, cib })
    }
}

impl Reply {
    pub fn to_xml(&self, call_id: u64) -> Element {
        let e = Element::new("pengine_reply").with_attr("call_id", call_id.to_string());
        match self {
            Reply::Failed(why) => e.with_attr("rc", "error").with_attr("reason", why),
            Reply::Done(d) => {
                let mut e = e
                    .with_attr("rc", "ok")
                    .with_attr("transition_id", d.transition_id.to_string())
                    .with_attr("series", &d.series)
                    .with_attr("input", d.input.display().to_string())
                    .with_attr("saved", if d.saved { "true" } else { "false" });
                e.children.push(Node::Element(d.graph.clone()));
                e
            }
        }
    }

    pub fn from_xml(e: &Element) -> Result<(u64, Reply), String> {
        if e.name != "pengine_reply" {
            return Err(format!("expected <pengine_reply>, got <{}>", e.name));
        }
        let call_id = e.attr("call_id").and_then(|v| v.parse().ok()).ok_or("no call_id")?;
        let reply = match e.attr("rc") {
            Some("ok") => Reply::Done(Done {
                transition_id: e.attr("transition_id").and_then(|v| v.parse().ok()).ok_or("no transition_id")?,
                series: e.attr("series").unwrap_or("pe-input").to_string(),
                input: PathBuf::from(e.attr("input").ok_or("no input")?),
                saved: e.attr("saved") == Some("true"),
                graph: e.child("transition_graph").cloned().ok_or("no transition_graph")?,
            }),
            Some("error") => Reply::Failed(e.attr("reason").unwrap_or("unknown error").to_string()),
            rc => return Err(format!("unknown rc {rc:?}")),
        };
        Ok((call_id, reply))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cib::xml::parse_element;
    use tools::cib_live::{frame, unframe};

    #[test]
    fn requests_and_replies_round_trip() {
        let cib = parse_element(r#"<cib epoch="1"><configuration/><status/></cib>"#).unwrap();
        let req = Request { call_id: 9, cib };
        assert_eq!(Request::from_xml(&unframe(&frame(&req.to_xml())[4..]).unwrap()).unwrap(), req);

        let done = Reply::Done(Done {
            transition_id: 4,
            series: "pe-warn".into(),
            input: "/v/pengine/pe-warn-3.bz2".into(),
            saved: true,
            graph: parse_element(r#"<transition_graph transition_id="4"/>"#).unwrap(),
        });
        for r in [done, Reply::Failed("the scheduler panicked: boom".into())] {
            assert_eq!(Reply::from_xml(&unframe(&frame(&r.to_xml(2))[4..]).unwrap()).unwrap(), (2, r));
        }
        assert!(Reply::from_xml(&parse_element(r#"<pengine_reply call_id="1" rc="what"/>"#).unwrap()).is_err());
    }
}
