//! A print storm (security review, load and faults): 5,000 jobs to three virtual printers, sent
//! as fast as three clients can pipeline them, while one printer goes offline and comes back.
//! Every job must print exactly once, in the order it was sent, on its own printer.
//! `PISPAS_STORM_JOBS` changes the total.
// Platform-independent logic, already run natively: not repeated under wine (CI time).
#![cfg(not(windows))]

mod print_support;

use pispas_sim::printer::VirtualPrinter;
use pispas_testkit::client::Client;
use print_support::*;
use serde_json::json;
use std::time::Duration;

fn jobs_total() -> usize {
    std::env::var("PISPAS_STORM_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000)
}

/// The job numbers on paper, in paper order, from lines `<name>-<n>`.
fn numbers(text: &str, name: &str) -> Vec<usize> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(name)?.strip_prefix('-')?.parse().ok())
        .collect()
}

/// Waits until `n` jobs of `name` are on `sim`'s paper (a status probe is a connection too, so
/// the simulator's job count is not used). Gives up after ten minutes.
async fn wait_printed(sim: &VirtualPrinter, name: &str, n: usize) {
    let what = format!("{n} jobs of {name} on paper");
    sim.wait_until(&what, Duration::from_secs(600), |d| {
        numbers(&d.text(), name).len() >= n
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_jobs_to_three_printers_print_once_each_in_order_through_an_outage() {
    let total = jobs_total();
    let names = ["A", "B", "C"];
    let mut sims = Vec::new();
    for _ in names {
        sims.push(tcp_printer().await);
    }
    let printers: Vec<(&str, String)> = names
        .iter()
        .zip(&sims)
        .map(|(n, s)| (*n, format!("tcp://{}", s.addr())))
        .collect();
    let server = engine("storm", &printers, &[("PRINT_RESUME_WINDOW", "3600")]).await;
    let per_printer: Vec<usize> = (0..3)
        .map(|i| total / 3 + usize::from(i < total % 3))
        .collect();

    let mut senders = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let addr = server.addr();
        let n = per_printer[i];
        let name = (*name).to_string();
        senders.push(tokio::spawn(async move {
            let mut c = Client::plain(addr).await.unwrap();
            let mut uuids = Vec::with_capacity(n);
            for k in 0..n {
                let params =
                    json!({ "PRINTER": name, "FORMAT": "TEXT", "DATA": format!("{name}-{k}\n") });
                uuids.push(c.send("PRINT", "PRINT", params).await.unwrap());
            }
            for u in &uuids {
                let r = c.reply_to(u).await.unwrap();
                assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r}");
            }
            n
        }));
    }
    // Printer B goes offline once it has printed a few hundred jobs, and comes back after its
    // queue has grown behind the outage.
    let b = &sims[1];
    let outage_at = (per_printer[1] / 4).max(1);
    wait_printed(b, "B", outage_at).await;
    b.set_offline(true);
    wait_printed(&sims[0], "A", per_printer[0] * 3 / 4).await;
    b.set_offline(false);

    for s in senders {
        s.await.unwrap();
    }
    for ((name, sim), n) in names.iter().zip(&sims).zip(&per_printer) {
        wait_printed(sim, name, *n).await;
        let got = numbers(&sim.text(), name);
        let expected: Vec<usize> = (0..*n).collect();
        if got != expected {
            let dup = got.len().saturating_sub(*n);
            let first_bad = got.iter().zip(&expected).position(|(a, b)| a != b);
            panic!(
                "printer {name}: {} jobs on paper for {n} sent ({dup} extra), first out of order at {first_bad:?}",
                got.len()
            );
        }
    }
}
