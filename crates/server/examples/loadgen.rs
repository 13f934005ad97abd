//! Load generator for `bench/transit.sh` and `bench/risk-live.sh`: posts to a running
//! `smartborder serve` over keep-alive HTTP/1.1 connections and reports acknowledged requests
//! per second and latency percentiles as one JSON line.
//!
//! `loadgen ADDR TOKEN CONNECTIONS SECONDS RATE [ASSESS_BODY]` - RATE 0 = as fast as the server
//! answers (closed loop); otherwise an open loop at RATE requests per second, latency measured
//! from each request's scheduled start, so a stalled server shows as latency, not as fewer
//! requests.
//!
//! Without ASSESS_BODY: lodges and releases one movement per connection (as KZ000101), then
//! posts `incident` events to them (allowed repeatedly while in transit). With it: posts that
//! file (`{"declarations": [...]}`) to `/api/v1/risk/assess`, and also reports declarations
//! assessed per second.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Conn {
    stream: BufReader<TcpStream>,
    addr: String,
    token: String,
}

impl Conn {
    async fn open(addr: &str, token: &str) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Conn {
            stream: BufReader::new(stream),
            addr: addr.to_string(),
            token: token.to_string(),
        }
    }

    /// One request; returns the status and the body.
    async fn post(&mut self, path: &str, body: &str) -> std::io::Result<(u16, String)> {
        // The head, then the body as it is: a batch of thousands of declarations is not copied
        // for each request by the client, which shares the machine's cores with the server.
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            self.token,
            body.len()
        );
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        let mut status_line = String::new();
        self.stream.read_line(&mut status_line).await?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).await?;
        let body = String::from_utf8(body)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok((status, body))
    }
}

fn mrn_of(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).expect("json");
    v["movement"]["mrn"].as_str().expect("mrn").to_string()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((p / 100.0) * (sorted.len() - 1) as f64).round() as usize]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 && args.len() != 7 {
        eprintln!("usage: loadgen ADDR TOKEN CONNECTIONS SECONDS RATE [ASSESS_BODY]");
        std::process::exit(2);
    }
    let assess: Option<(std::sync::Arc<str>, usize)> = args.get(6).map(|file| {
        let body = std::fs::read_to_string(file).expect("ASSESS_BODY");
        let v: serde_json::Value = serde_json::from_str(&body).expect("ASSESS_BODY is JSON");
        let n = v["declarations"].as_array().map_or(0, Vec::len);
        (body.into(), n)
    });
    let (addr, token) = (args[1].clone(), args[2].clone());
    let connections: usize = args[3].parse().expect("CONNECTIONS");
    let seconds: f64 = args[4].parse().expect("SECONDS");
    let rate: f64 = args[5].parse().expect("RATE");
    let run_id = std::process::id();
    let limit = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();

    let mut tasks = Vec::new();
    for c in 0..connections {
        let (addr, token, limit) = (addr.clone(), token.clone(), limit.clone());
        let assessing = assess.is_some();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&addr, &token).await;
            if assessing {
                return (conn, "/api/v1/risk/assess".to_string());
            }
            let lodge = format!(
                r#"{{"lrn":"LOAD-{run_id}-{c}","route":{{"departure":"KZ000101","transit":[{{"office":"AZ000201"}}],"destination":"GE000301"}}}}"#
            );
            let (s, body) = conn.post("/api/v1/movements", &lodge).await.expect("lodge");
            assert_eq!(s, 201, "{body}");
            let path = format!("/api/v1/movements/{}/events", mrn_of(&body));
            let release = format!(r#"{{"type":"released_for_transit","office":"KZ000101","limit_date":"{limit}"}}"#);
            let (s, body) = conn.post(&path, &release).await.expect("release");
            assert_eq!(s, 200, "{body}");
            (conn, path)
        }));
    }
    let mut ready = Vec::new();
    for t in tasks {
        ready.push(t.await.expect("setup"));
    }

    let start = Instant::now() + Duration::from_millis(100);
    let end = start + Duration::from_secs_f64(seconds);
    let per_connection = if rate > 0.0 {
        Some(Duration::from_secs_f64(connections as f64 / rate))
    } else {
        None
    };
    let mut tasks = Vec::new();
    for (c, (mut conn, path)) in ready.into_iter().enumerate() {
        let assess = assess.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut i = 0u64;
            let offset = per_connection.map(|p| p.mul_f64(c as f64 / connections as f64));
            loop {
                let scheduled = match (per_connection, offset) {
                    (Some(p), Some(o)) => start + o + p.mul_f64(i as f64),
                    _ => Instant::now().max(start),
                };
                if scheduled >= end {
                    break;
                }
                tokio::time::sleep_until(scheduled.into()).await;
                let incident;
                let body = match &assess {
                    Some((body, _)) => &**body,
                    None => {
                        incident = format!(
                            r#"{{"type":"incident","office":"KZ000101","description":"load {c}-{i}"}}"#
                        );
                        incident.as_str()
                    }
                };
                match conn.post(&path, body).await {
                    Ok((200, _)) => latencies.push(scheduled.elapsed().as_secs_f64() * 1000.0),
                    _ => errors += 1,
                }
                i += 1;
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("load");
        all.extend(l);
        errors += e;
    }
    let elapsed = seconds;
    all.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "connections": connections,
            "target_rate": rate,
            "seconds": elapsed,
            "acknowledged": all.len(),
            "errors": errors,
            "events_per_second": all.len() as f64 / elapsed,
            "declarations_per_second": assess.as_ref().map(|(_, n)| (all.len() * n) as f64 / elapsed),
            "p50_ms": percentile(&all, 50.0),
            "p99_ms": percentile(&all, 99.0),
            "max_ms": all.last().copied().unwrap_or(f64::NAN),
        })
    );
}
