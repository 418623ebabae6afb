//! Transient node attributes (fail counts, `last-failure`, `shutdown`)
//! go through attrd (`$HA_RUNDIR/attrd.sock`), which owns them and writes
//! them into the status section; when attrd cannot be reached crmd writes
//! the same nvpair into the CIB itself, so a failure is never forgotten.

use std::time::Duration;

use super::{log_refusal, Shell};
use crate::status;

/// How long one attrd request may take.
const ATTRD_TIMEOUT: Duration = Duration::from_secs(5);

impl Shell {
    async fn attrd(&self) -> Option<attrd::client::AsyncClient> {
        match attrd::client::AsyncClient::connect(&self.attrd_socket, ATTRD_TIMEOUT).await {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!("crmd: attrd not reachable ({e}): writing attributes into the CIB directly");
                None
            }
        }
    }

    /// attrd's name for a node: none for our own.
    fn attrd_node<'a>(&self, node: &'a str) -> Option<&'a str> {
        (node != self.me).then_some(node)
    }

    /// Sets `name` on `node`. `value` may be attrd's `value++`.
    pub(crate) async fn attr_update(&mut self, node: &str, name: &str, value: &str) -> anyhow::Result<()> {
        if let Some(mut a) = self.attrd().await {
            match a.update(self.attrd_node(node), name, value).await {
                Ok(()) => return Ok(()),
                Err(e) => tracing::warn!("crmd: attrd refused {name}={value} for {node}: {e}"),
            }
        }
        let id = self.node_id(node);
        let value = if value == "value++" {
            let cib = self.cib.query().await?;
            status::next_fail_count(status::transient_value(&cib, &id, name).as_deref(), "")
        } else {
            value.to_string()
        };
        let a = self.cib.modify(Some("status"), status::transient_attr(&id, node, name, &value)).await?;
        log_refusal(name, &a);
        Ok(())
    }

    /// Removes `name` from `node`.
    pub(crate) async fn attr_delete(&mut self, node: &str, name: &str) -> anyhow::Result<()> {
        if let Some(mut a) = self.attrd().await {
            match a.delete(self.attrd_node(node), name).await {
                Ok(()) | Err(attrd::Error::NoSuch) => {}
                Err(e) => tracing::warn!("crmd: attrd refused to delete {name} of {node}: {e}"),
            }
        }
        // Also from the CIB at once: attrd of another node writes when it
        // gets the message, and a value set before attrd started is not
        // in its table.
        let id = self.node_id(node);
        let xpath = format!("{}//nvpair[@name='{name}']", status::transient_xpath(&id));
        let a = self.cib.delete_xpath(&xpath).await?;
        log_refusal(name, &a);
        Ok(())
    }

    /// `clear_failcount`: every fail count and last failure of `rsc` on `node`.
    pub(crate) async fn clear_failcounts(&mut self, node: &str, rsc: &str) -> anyhow::Result<()> {
        let id = self.node_id(node);
        let cib = self.cib.query().await?;
        let names: Vec<String> = cib
            .child("status")
            .and_then(|s| s.children_named("node_state").find(|n| n.id() == Some(id.as_str())))
            .and_then(|n| n.child("transient_attributes"))
            .map(|t| {
                t.descendants()
                    .filter(|e| e.name == "nvpair")
                    .filter_map(|e| e.attr("name"))
                    .filter(|n| status::is_failure_attr(n, rsc))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        for n in names {
            self.attr_delete(node, &n).await?;
        }
        Ok(())
    }
}
