//! The HAProxy agent-check listener (`[server] agent_listen`).
//!
//! HAProxy connects, healthgate writes the snapshot's pre-rendered line (always a
//! full state: `up ready 100%`, `up ready 50%`, `down #reason`, `drain`,
//! `maint #reason`) and closes. Nothing is read before answering, so a client that
//! sends nothing or garbage cannot delay anyone; each connection is bounded to a
//! second and their number is capped.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::snapshot::SharedSnapshot;

/// Connections served at once; more wait in the kernel's accept queue.
const MAX_CONNECTIONS: usize = 256;

/// Serves agent checks until the task is dropped.
pub async fn serve(listener: TcpListener, snapshot: SharedSnapshot) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let mut stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "agent listener: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let line = snapshot.load().agent_line.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                stream.write_all(&line).await?;
                stream.shutdown().await?;
                // Read what the peer sent (agent-send) so closing does not reset
                // the connection before our line is delivered.
                let mut sink = [0u8; 512];
                while stream.read(&mut sink).await? > 0 {}
                Ok::<(), std::io::Error>(())
            })
            .await;
        });
    }
}
