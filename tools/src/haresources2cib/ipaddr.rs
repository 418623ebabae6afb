//! The `ip/bits/nic/broadcast` argument of `IPaddr` and `IPaddr2`.
//!
//! Parts after the address are recognised by their form, as Heartbeat's
//! resource.d/IPaddr read them: a dotted quad is the broadcast address
//! (and ends the list), a number is the netmask length, anything else is
//! the interface. An interface with a label (`eth0:0`) gives `nic=eth0`
//! and `iflabel=0`. Empty parts (a trailing `/`) are ignored.

/// Slots, which are also the nvpair id suffixes the converter has always
/// used (`_attr_0` ... `_attr_3`), plus the label.
pub const IP: usize = 0;
pub const NETMASK: usize = 1;
pub const NIC: usize = 2;
pub const BROADCAST: usize = 3;
pub const IFLABEL: usize = 4;

/// (slot, value) pairs in slot order.
pub fn split(arg: &str) -> Vec<(usize, String)> {
    let mut slots: [Option<String>; 5] = Default::default();
    let mut parts = arg.split('/');
    slots[IP] = parts.next().map(str::to_string);
    for part in parts.filter(|p| !p.is_empty()) {
        if part.split('.').count() == 4 {
            slots[BROADCAST] = Some(part.to_string());
            break;
        }
        if part.parse::<u32>().is_ok() {
            slots[NETMASK] = Some(part.to_string());
        } else if let Some((nic, label)) = part.split_once(':') {
            slots[NIC] = Some(nic.to_string());
            slots[IFLABEL] = Some(label.to_string());
        } else {
            slots[NIC] = Some(part.to_string());
        }
    }
    slots.into_iter().enumerate().filter_map(|(i, v)| v.map(|v| (i, v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(arg: &str) -> Vec<(usize, &str)> {
        // Leak-free view for comparisons.
        split(arg).into_iter().map(|(i, v)| (i, &*Box::leak(v.into_boxed_str()))).collect()
    }

    #[test]
    fn forms() {
        assert_eq!(s("10.0.0.1"), [(IP, "10.0.0.1")]);
        assert_eq!(s("192.168.0.150/24/eth0:0"), [(IP, "192.168.0.150"), (NETMASK, "24"), (NIC, "eth0"), (IFLABEL, "0")]);
        assert_eq!(
            s("192.168.100.100/24/eth0/192.168.100.255"),
            [(IP, "192.168.100.100"), (NETMASK, "24"), (NIC, "eth0"), (BROADCAST, "192.168.100.255")]
        );
        assert_eq!(s("192.168.60.200/24/eth0/"), [(IP, "192.168.60.200"), (NETMASK, "24"), (NIC, "eth0")]);
        // The interface before the netmask is still the interface.
        assert_eq!(s("172.18.57.83/bond0/24"), [(IP, "172.18.57.83"), (NETMASK, "24"), (NIC, "bond0")]);
    }
}
