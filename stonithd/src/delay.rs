//! Fencing delays: what decides the fence race of a two-node split
//! (docs/SPLIT_BRAIN.md).
//!
//! - `priority-fencing-delay` (cluster option): computed by the
//!   *requesting* node's stonithd from its CIB when the request does not
//!   carry a delay (the DC's requests), with Pacemaker 2.1's rule
//!   ([`priority_delay_ms`]);
//! - a request's own delay (`stonith_admin --delay`): used instead of the
//!   priority delay; `-1` disables every delay, device ones included;
//! - the device's `pcmk_delay_base` plus a random part up to
//!   `pcmk_delay_max` ([`device_delay_ms`]), added on the executing node.

use pengine::{NodeKind, WorkingSet};

use crate::device::Device;

/// Pacemaker's `node_priority_fencing_delay`: the delay applies only when
/// the option is set, the target is a cluster member that is not online
/// (not in our partition), our partition holds no more than half of the
/// members, the members' priorities differ, and the target's is the
/// highest. A node's priority is the sum of the `priority` meta attribute
/// of the resources active on it (a promoted instance counts one more).
pub fn priority_delay_ms(ws: &WorkingSet, target: &str) -> u64 {
    let delay = ws
        .options
        .all
        .get("priority-fencing-delay")
        .and_then(|v| cib::model::duration::parse_msec(v))
        .unwrap_or(0);
    if delay == 0 {
        return 0;
    }
    let Some(t) = ws.node_by_uname(target) else {
        return 0;
    };
    let tnode = ws.node(t);
    if tnode.kind != NodeKind::Cluster || tnode.online {
        return 0;
    }
    let members: Vec<usize> = (0..ws.nodes.len())
        .filter(|i| ws.nodes[*i].kind == NodeKind::Cluster)
        .collect();
    let online = members.iter().filter(|i| ws.nodes[**i].online).count();
    if online > members.len() / 2 {
        return 0;
    }
    let prio: Vec<i64> = members.iter().map(|i| node_priority(ws, *i)).collect();
    let (top, low) = (
        prio.iter().copied().max().unwrap_or(0),
        prio.iter().copied().min().unwrap_or(0),
    );
    if top == low || node_priority(ws, t.0) < top {
        return 0;
    }
    delay
}

/// Sum of the priorities of the resources active on node `i`.
pub fn node_priority(ws: &WorkingSet, i: usize) -> i64 {
    ws.nodes[i]
        .running
        .iter()
        .map(|r| ws.rsc(*r))
        .filter(|r| !r.flags.failed)
        .map(|r| {
            let p: i64 = r
                .meta
                .get("priority")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if p == 0 {
                0
            } else if r.role == cib::model::Role::Promoted {
                p + 1
            } else {
                p
            }
        })
        .sum()
}

/// The device's own delay for `target`: `pcmk_delay_base`, plus a random
/// part so that the sum stays at most `pcmk_delay_max` (Pacemaker 2.1's
/// reading). `random` is any u64 (the shell passes fresh randomness; tests
/// pass fixed values).
pub fn device_delay_ms(dev: &Device, target: &str, random: u64) -> u64 {
    let base = dev.delay_base.for_target(target);
    let max = dev.delay_max_ms;
    if max > base {
        base + random % (max - base + 1)
    } else {
        base
    }
}

/// The whole delay before the executing node runs the device: the
/// request's part (`None` counts as 0; negative disables all delays) plus
/// the device's.
pub fn total_delay_ms(requested: i64, dev: Option<&Device>, target: &str, random: u64) -> u64 {
    if requested < 0 {
        return 0;
    }
    requested as u64 + dev.map_or(0, |d| device_delay_ms(d, target, random))
}

/// Fresh randomness without a random-number crate: std's hasher keys are
/// random per process and per `RandomState`.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Origin;
    use std::collections::BTreeMap;

    fn ws(xml_status: &str, pfd: &str) -> WorkingSet {
        let xml = format!(
            r#"<cib admin_epoch="0" epoch="1" num_updates="0" dc-uuid="1" have-quorum="true"><configuration><crm_config><cluster_property_set id="o">{pfd}</cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources>
 <primitive id="ip" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="ip-m"><nvpair id="ip-p" name="priority" value="10"/></meta_attributes></primitive>
 <primitive id="small" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="s-m"><nvpair id="s-p" name="priority" value="1"/></meta_attributes></primitive>
</resources><constraints/></configuration><status>{xml_status}</status></cib>"#
        );
        let cib = cib::model::Cib::from_element(&cib::xml::parse_element(&xml).unwrap()).unwrap();
        pengine::unpack(&cib, 1_700_000_000)
    }

    fn state(id: &str, name: &str, online: bool, rsc: &str) -> String {
        let ccm = if online {
            r#"in_ccm="true" crmd="online" join="member""#
        } else {
            r#"in_ccm="false" crmd="offline" join="down""#
        };
        format!(
            r#"<node_state id="{id}" uname="{name}" {ccm} expected="member"><lrm id="{id}"><lrm_resources><lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_start_0" operation="start" crm-debug-origin="x" crm_feature_set="3.16.2" transition-key="1:1:0:x" transition-magic="0:0;1:1:0:x" exit-reason="" on_node="{name}" call-id="3" rc-code="0" op-status="0" interval="0" last-rc-change="1" exec-time="1" queue-time="0"/></lrm_resource></lrm_resources></lrm></node_state>"#
        )
    }

    const PFD: &str = r#"<nvpair id="o-1" name="priority-fencing-delay" value="15s"/>"#;

    #[test]
    fn the_node_with_more_priority_is_fenced_later() {
        // n1 lost n2: n2 ran the priority-10 resource, so fencing n2 waits.
        let w = ws(
            &(state("1", "n1", true, "small") + &state("2", "n2", false, "ip")),
            PFD,
        );
        assert_eq!(priority_delay_ms(&w, "n2"), 15_000);
        // n2 lost n1 (the other side's view): n1 has less, no delay.
        let w = ws(
            &(state("1", "n1", false, "small") + &state("2", "n2", true, "ip")),
            PFD,
        );
        assert_eq!(priority_delay_ms(&w, "n1"), 0);
        // Target online (our partition): no delay.
        let w = ws(
            &(state("1", "n1", true, "small") + &state("2", "n2", true, "ip")),
            PFD,
        );
        assert_eq!(priority_delay_ms(&w, "n2"), 0);
        // Option unset: no delay.
        let w = ws(
            &(state("1", "n1", true, "small") + &state("2", "n2", false, "ip")),
            "",
        );
        assert_eq!(priority_delay_ms(&w, "n2"), 0);
        // Equal priorities: no delay.
        let w = ws(
            &(state("1", "n1", true, "ip") + &state("2", "n2", false, "ip")),
            PFD,
        );
        assert_eq!(priority_delay_ms(&w, "n2"), 0);
    }

    #[test]
    fn device_delays_stay_within_base_and_max() {
        let p: BTreeMap<String, String> = [("pcmk_delay_base", "2s"), ("pcmk_delay_max", "5s")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let d = Device::from_params("f", "fence_x", &p, Origin::Cib);
        for r in [0, 1, 2999, 3000, 3001, u64::MAX] {
            let v = device_delay_ms(&d, "n1", r);
            assert!((2000..=5000).contains(&v), "{v}");
        }
        assert_eq!(total_delay_ms(-1, Some(&d), "n1", 7), 0);
        assert_eq!(total_delay_ms(1000, None, "n1", 7), 1000);
        assert_eq!(total_delay_ms(1000, Some(&d), "n1", 0), 3000);
    }
}
