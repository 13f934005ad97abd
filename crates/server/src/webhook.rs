//! Pushes each administration's notification feed to its webhook: `POST URL` with
//! `{"notifications": [...]}` (up to 100, in order). A 2xx answer moves the cursor; anything
//! else (refused connection, timeout, other status) is retried after 1, 2, 4 ... up to 60
//! seconds. Delivery is therefore at least once and in order; receivers deduplicate by `id`.

use std::collections::HashMap;
use std::time::Duration;

use smartborder_store::{Store, read, webhooks};
use smartborder_transit::Principal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

const BATCH: i64 = 100;
const POLL: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the pusher on the current runtime.
pub fn spawn(store: Store) {
    tokio::spawn(async move {
        // Per country: when to try again and the current back-off.
        let mut retry: HashMap<String, (Instant, Duration)> = HashMap::new();
        loop {
            tokio::time::sleep(POLL).await;
            let Ok(hooks) = webhooks::list(&store).await else {
                continue;
            };
            for hook in hooks {
                if retry
                    .get(&hook.country)
                    .is_some_and(|(at, _)| Instant::now() < *at)
                {
                    continue;
                }
                let who = Principal::Administration {
                    country: hook.country.clone(),
                };
                let Ok(items) =
                    read::notifications(&store, &who, hook.delivered_after, BATCH).await
                else {
                    continue;
                };
                let Some(last) = items.last().map(|n| n.id) else {
                    continue;
                };
                let body = serde_json::json!({ "notifications": items }).to_string();
                match post(&hook.url, &body).await {
                    Ok(status) if (200..300).contains(&status) => {
                        retry.remove(&hook.country);
                        let _ = webhooks::delivered(&store, &hook.country, last).await;
                    }
                    _ => {
                        let backoff = retry
                            .get(&hook.country)
                            .map_or(Duration::from_secs(1), |(_, b)| (*b * 2).min(MAX_BACKOFF));
                        retry.insert(hook.country.clone(), (Instant::now() + backoff, backoff));
                    }
                }
            }
        }
    });
}

/// `POST` a JSON body to an `http://` URL; returns the status code.
async fn post(url: &str, body: &str) -> std::io::Result<u16> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other("not http://"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let address = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:80")
    };
    let exchange = async {
        let mut stream = TcpStream::connect(&address).await?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: smartborder\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await?;
        let line = String::from_utf8_lossy(&head[..n]);
        line.split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other("no HTTP status"))
    };
    timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| std::io::Error::other("timed out"))?
}
