//! `haresources` (v1 resource groups), shared with haresources2cib.
//!
//! ```text
//! # node     resources, started left to right, stopped right to left
//! web1.luochen.com 192.168.10.118/24/eth0 Filesystem::192.168.10.114:/www/htdocs::/var/www/html::nfs httpd
//! ```
//!
//! Each line is one group: the preferred node, then resources. A resource
//! is a script name with `::`-separated arguments; a bare IPv4 address
//! (optionally `/bits/dev/broadcast`) is shorthand for `IPaddr::...`, as
//! Heartbeat's ResourceManager reads it. A line ending in `\` continues
//! on the next. Lines starting with `#` are comments.

use std::net::Ipv4Addr;

use crate::diag::Diagnostic;

/// One resource of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The resource as written.
    pub text: String,
    /// The script (`IPaddr` for the address shorthand).
    pub agent: String,
    /// The `::`-separated arguments.
    pub args: Vec<String>,
}

impl Resource {
    pub fn parse(text: &str) -> Resource {
        let mut parts = text.split("::");
        let first = parts.next().unwrap_or("");
        let args: Vec<String> = parts.map(str::to_string).collect();
        if args.is_empty() && is_address_shorthand(first) {
            return Resource { text: text.to_string(), agent: "IPaddr".into(), args: vec![first.to_string()] };
        }
        Resource { text: text.to_string(), agent: first.to_string(), args }
    }
}

fn is_address_shorthand(s: &str) -> bool {
    s.split('/').next().is_some_and(|a| a.parse::<Ipv4Addr>().is_ok())
}

/// One line: a node and its resources, in start order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The line the group starts on.
    pub line: usize,
    pub node: String,
    pub resources: Vec<Resource>,
}

/// Parses the text of a haresources file.
pub fn parse(text: &str, file: &str) -> (Vec<Group>, Vec<Diagnostic>) {
    let mut groups = Vec::new();
    let mut diags = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let (start, mut acc) = match pending.take() {
            Some((start, acc)) => (start, acc),
            None => {
                let t = raw.trim_start();
                if t.is_empty() || t.starts_with('#') {
                    continue;
                }
                (line, String::new())
            }
        };
        let t = raw.trim_end();
        if let Some(cont) = t.strip_suffix('\\') {
            acc.push_str(cont);
            acc.push(' ');
            pending = Some((start, acc));
            continue;
        }
        acc.push_str(t);
        let mut words = acc.split_ascii_whitespace();
        let node = words.next().unwrap_or_default().to_string();
        let resources: Vec<Resource> = words.map(Resource::parse).collect();
        if resources.is_empty() {
            diags.push(Diagnostic::warning(file, start, format!("node {node} has no resources on this line")));
        }
        groups.push(Group { line: start, node, resources });
    }
    if let Some((start, _)) = pending {
        diags.push(Diagnostic::error(file, start, "line continued with '\\' at the end of the file"));
    }
    (groups, diags)
}

/// Heartbeat's check: every group's node is a `node` of ha.cf
/// (compared lower-cased, as ha.cf stores them).
pub fn check_nodes(groups: &[Group], nodes: &[String], file: &str) -> Vec<Diagnostic> {
    groups
        .iter()
        .filter(|g| !nodes.contains(&g.node.to_ascii_lowercase()))
        .map(|g| Diagnostic::error(file, g.line, format!("Bad nodename in {file} [{}]", g.node)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_lines() {
        let (g, d) = parse(
            "# c\nnode1 IPaddr::192.168.60.200/24/eth0/  Filesystem::/dev/sdb5::/webdata::ext3  httpd tomcat\n\nmaster 192.168.0.150/24/eth0:0 nginx\nnode2 a \\\n  b\n",
            "haresources",
        );
        assert_eq!(d, []);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].node, "node1");
        assert_eq!(g[0].resources[0].agent, "IPaddr");
        assert_eq!(g[0].resources[0].args, ["192.168.60.200/24/eth0/"]);
        assert_eq!(g[0].resources[1].args, ["/dev/sdb5", "/webdata", "ext3"]);
        assert_eq!(g[0].resources[3], Resource { text: "tomcat".into(), agent: "tomcat".into(), args: vec![] });
        assert_eq!(g[1].resources[0].agent, "IPaddr");
        assert_eq!(g[1].resources[0].args, ["192.168.0.150/24/eth0:0"]);
        assert_eq!((g[2].line, g[2].resources.len()), (5, 2));
        let bad = check_nodes(&g, &["node1".to_string(), "master".to_string()], "haresources");
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].to_string(), "haresources:5: error: Bad nodename in haresources [node2]");
    }
}
