//! Measures per-NHI evaluation of a realistic custom check over synthetic NHIs.
//!
//! `cargo run --release -p keyward-rego --example bench [-- COUNT]` (default 50,000 NHIs).
//! Prints microseconds per NHI for the VM and the interpreter on one thread, for the VM on
//! two threads with one engine each, for the VM given NHIs converted beforehand (what each
//! further check costs when several judge the same NHI), and for a check that reads nothing
//! (the floor: turning the JSON into regorus values and calling in).

use std::time::Instant;

use keyward_rego::{Backend, PreparedInput, RegoCheck, Verdict};
use serde_json::{Value, json};

const POLICY: &str = include_str!("bench.rego");
const FLOOR: &str = "package keyward.checks.floor\n\ndeny contains \"never\" if false\n";

/// One synthetic NHI of about 1.5 KB, varied by `i` so that about a third of them pass.
fn nhi(i: usize) -> Value {
    const KINDS: [&str; 5] = [
        "service_account",
        "access_key",
        "api_key",
        "workload_identity",
        "human_user",
    ];
    const ENVIRONMENTS: [&str; 3] = ["production", "staging", "development"];
    const PROVIDERS: [&str; 4] = ["aws", "gcp", "azure", "github"];
    const CREDENTIAL_KINDS: [&str; 3] = ["access_key", "client_secret", "token"];
    let mut tags = serde_json::Map::new();
    tags.insert("team".into(), json!(format!("team-{}", i % 17)));
    tags.insert("application".into(), json!(format!("app-{}", i % 37)));
    tags.insert(
        "tier".into(),
        json!(["frontend", "backend", "batch"][i % 3]),
    );
    tags.insert("managed-by".into(), json!("terraform"));
    if !i.is_multiple_of(4) {
        tags.insert("cost-center".into(), json!(format!("cc-{}", i % 11)));
    }
    if !i.is_multiple_of(6) {
        tags.insert("data-classification".into(), json!("internal"));
    }
    let permissions: Vec<String> = (0..16)
        .map(|k| match k {
            0 if i.is_multiple_of(9) => "s3:*".to_owned(),
            1 if i.is_multiple_of(13) => "iam:PassRole".to_owned(),
            _ => format!("svc{}:Describe{}", k, (i + k) % 7),
        })
        .collect();
    let credentials: Vec<Value> = (0..1 + i % 3)
        .map(|k| {
            json!({
                "id": format!("cred-{i:06}-{k}"),
                "kind": CREDENTIAL_KINDS[k % CREDENTIAL_KINDS.len()],
                "status": if (i + k).is_multiple_of(10) { "inactive" } else { "active" },
                "age_days": if i.is_multiple_of(5) { 120 + k * 7 } else { (i * 3 + k) % 80 },
                "last_used_days": if i.is_multiple_of(7) { 75 } else { (i + k) % 30 },
                "created_at": "2025-11-02T10:20:30Z",
                "fingerprint": format!("{:016x}", i * 7919 + k),
            })
        })
        .collect();
    json!({
        "id": format!("nhi-{i:06}"),
        "name": format!("svc-{}-reporting-pipeline-{}", i % 37, i),
        "kind": KINDS[i % KINDS.len()],
        "provider": PROVIDERS[i % PROVIDERS.len()],
        "environment": ENVIRONMENTS[i % ENVIRONMENTS.len()],
        "owner": format!("team-{}", i % 17),
        "backup_owner": if i.is_multiple_of(8) { Value::Null } else { json!(format!("oncall-{}", i % 5)) },
        "tags": tags,
        "facts": {
            "permissions": permissions,
            "regions": if i.is_multiple_of(11) { json!(["us-east-1", "eu-west-1"]) } else { json!(["us-east-1"]) },
            "mfa": i.is_multiple_of(2),
            "last_seen": "2026-01-02T03:04:05Z",
            "source": format!("connector-{}", PROVIDERS[i % PROVIDERS.len()]),
        },
        "credentials": credentials,
    })
}

/// Evaluates every NHI once; returns microseconds per NHI and (pass, fail, not applicable).
fn run(check: &mut RegoCheck, nhis: &[Value], params: &Value) -> (f64, [usize; 3]) {
    timed(nhis, |nhi| check.evaluate(nhi, params))
}

fn timed<T>(
    nhis: &[T],
    mut evaluate: impl FnMut(&T) -> Result<Verdict, keyward_rego::RegoError>,
) -> (f64, [usize; 3]) {
    let mut counts = [0; 3];
    let start = Instant::now();
    for nhi in nhis {
        match evaluate(nhi) {
            Ok(Verdict::Pass) => counts[0] += 1,
            Ok(Verdict::Fail(_)) => counts[1] += 1,
            Ok(Verdict::NotApplicable) => counts[2] += 1,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    }
    (
        start.elapsed().as_secs_f64() * 1e6 / nhis.len() as f64,
        counts,
    )
}

/// Two threads, one engine each, half the NHIs each: wall-clock microseconds per NHI.
fn run_parallel(check: &RegoCheck, nhis: &[Value], params: &Value) -> f64 {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for chunk in nhis.chunks(nhis.len().div_ceil(2)) {
            let mut engine = check.clone();
            scope.spawn(move || run(&mut engine, chunk, params));
        }
    });
    start.elapsed().as_secs_f64() * 1e6 / nhis.len() as f64
}

fn compile(origin: &str, source: &str, backend: Backend) -> RegoCheck {
    RegoCheck::compile_with(origin, source, backend).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    })
}

fn main() {
    let count = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(50_000);
    let nhis: Vec<Value> = (0..count).map(nhi).collect();
    let bytes: usize = nhis.iter().map(|n| n.to_string().len()).sum();
    println!(
        "{count} NHIs, {} bytes of JSON each on average",
        bytes / count
    );
    let params = json!({"max_age_days": 90, "required_tags": ["cost-center", "data-classification"], "admin_regions": ["us-east-1"]});

    let start = Instant::now();
    let mut vm = compile("examples/bench.rego", POLICY, Backend::Vm);
    let compile_ms = start.elapsed().as_secs_f64() * 1e3;
    let start = Instant::now();
    let _clone = vm.clone();
    let clone_ms = start.elapsed().as_secs_f64() * 1e3;
    let mut interpreter = compile("examples/bench.rego", POLICY, Backend::Interpreter);
    let mut floor = compile("floor.rego", FLOOR, Backend::Vm);
    // Warm up allocators and caches on a slice before measuring.
    let warm = &nhis[..count.min(2_000)];
    run(&mut vm, warm, &params);
    run(&mut interpreter, warm, &params);
    run(&mut floor, warm, &params);

    let (floor_us, _) = run(&mut floor, &nhis, &params);
    let (vm_us, vm_counts) = run(&mut vm, &nhis, &params);
    let (interpreter_us, interpreter_counts) = run(&mut interpreter, &nhis, &params);
    if vm_counts != interpreter_counts {
        eprintln!("the backends disagree: vm {vm_counts:?}, interpreter {interpreter_counts:?}");
        std::process::exit(1);
    }
    let parallel_us = run_parallel(&vm, &nhis, &params);
    let prepared: Vec<PreparedInput> = nhis.iter().map(PreparedInput::new).collect();
    let (prepared_us, _) = timed(&prepared, |nhi| vm.evaluate_prepared(nhi, &params));
    let [pass, fail, not_applicable] = vm_counts;
    println!("verdicts: {pass} pass, {fail} fail, {not_applicable} not applicable");
    println!("compile {compile_ms:.2} ms, clone {clone_ms:.2} ms");
    println!("floor (conversion + call, VM)  {floor_us:8.2} µs/NHI");
    println!("VM, 1 thread                   {vm_us:8.2} µs/NHI");
    println!(
        "interpreter, 1 thread          {interpreter_us:8.2} µs/NHI  ({:.2}x the VM)",
        interpreter_us / vm_us
    );
    println!("VM, 2 threads (wall clock)     {parallel_us:8.2} µs/NHI");
    println!("VM, NHI converted beforehand   {prepared_us:8.2} µs/NHI");
    println!(
        "1,000,000 NHIs on 2 threads: about {:.1} s",
        parallel_us * 1_000_000.0 / 1e6
    );
}
