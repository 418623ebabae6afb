//! The messages two ipfails exchange through heartbeat:
//! `t=ipfail ipfail_op=count_request|count num_ping=N`.

use transport::wire::Message;

use super::core::PeerMsg;

pub fn to_message(m: PeerMsg) -> Message {
    let (op, n) = match m {
        PeerMsg::CountRequest(n) => ("count_request", n),
        PeerMsg::Count(n) => ("count", n),
    };
    Message::new().with_str("t", "ipfail").with_str("ipfail_op", op).with_str("num_ping", &n.to_string())
}

/// The peer message in a cluster message, if it is one.
pub fn from_message(m: &Message) -> Option<PeerMsg> {
    if m.get_str("t") != Some("ipfail") {
        return None;
    }
    let n = m.get_str("num_ping")?.parse().ok()?;
    match m.get_str("ipfail_op")? {
        "count_request" => Some(PeerMsg::CountRequest(n)),
        "count" => Some(PeerMsg::Count(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_the_api_encoding() {
        for m in [PeerMsg::CountRequest(0), PeerMsg::Count(3)] {
            let bytes = transport::api::frame(&to_message(m)).unwrap();
            let back = transport::api::unframe(&bytes[4..]).unwrap();
            assert_eq!(from_message(&back), Some(m));
        }
        assert_eq!(from_message(&Message::new().with_str("t", "crmd")), None);
        assert_eq!(from_message(&Message::new().with_str("t", "ipfail").with_str("ipfail_op", "count")), None);
    }
}
