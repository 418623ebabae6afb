//! Serves `ccm.sock`: the greeting, the current view, then every new one
//! (protocol in [`crate::client`]).

use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use crate::client;
use crate::View;

/// Accepts clients until the runtime stops.
pub(super) async fn serve(listener: UnixListener, node: String, views: watch::Receiver<Option<View>>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(client_task(stream, node.clone(), views.clone()));
            }
            Err(e) => {
                tracing::warn!("ccm socket: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Writes to one client until it goes away or the shell stops. A slow
/// client sees only the latest view when it catches up (watch channel).
async fn client_task(mut stream: UnixStream, node: String, mut views: watch::Receiver<Option<View>>) {
    let hello = format!("{}\n", client::greeting(&node));
    if stream.write_all(hello.as_bytes()).await.is_err() {
        return;
    }
    loop {
        let line = format!("{}\n", client::encode(views.borrow_and_update().as_ref()));
        if stream.write_all(line.as_bytes()).await.is_err() {
            return;
        }
        if views.changed().await.is_err() {
            return;
        }
    }
}
