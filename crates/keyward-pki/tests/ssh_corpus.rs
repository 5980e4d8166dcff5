//! SSH keys from the corpus (OpenSSH's own regress data): fingerprints as `ssh-keygen -l`
//! prints them, certificates as `ssh-keygen -L` shows them, `known_hosts` as ssh reads it.

use keyward_connect::Connector;
use keyward_model::{NhiKind, NhiStatus};
use keyward_pki::{SshFiles, parse_ssh};
use serde_json::json;

use crate::common::{by_id, corpus, fact, file_name, strings};

#[tokio::test]
async fn the_whole_ssh_folder_gives_one_nhi_per_key_blob() {
    let Some(c) = corpus() else { return };
    let connector = SshFiles {
        paths: vec![c.join("ssh")],
        scope: Some("files:corpus-ssh".into()),
    };
    assert_eq!(connector.name(), "ssh-files");
    let d = connector.discover().await.unwrap();
    assert_eq!(
        (d.source.as_str(), d.scope.as_str()),
        ("ssh", "files:corpus-ssh")
    );
    assert!(d.complete);
    // 17 authopt certificates, 24 files of sshkey test data, known_hosts (LICENCE not taken).
    assert_eq!(d.inputs.len(), 17 + 24 + 1);
    // 17 certificates; 20 distinct blobs in the test data (rsa_1 is in three files);
    // 17 distinct host keys in known_hosts.
    assert_eq!(d.nhis.len(), 17 + 20 + 17);
    assert!(
        d.nhis
            .iter()
            .all(|n| n.kind == NhiKind::SshKey && n.provider == "ssh")
    );
    assert!(
        d.nhis
            .windows(2)
            .all(|w| w[0].external_id < w[1].external_id)
    );
    // Six invalid known_hosts lines (skipped, as ssh skips them) and the two `.param.pub`
    // files, which hold hex EC parameters, not keys.
    assert_eq!(d.warnings.len(), 8, "{:#?}", d.warnings);
    assert_eq!(
        d.warnings
            .iter()
            .filter(|w| w.contains(".param.pub: no line holds"))
            .count(),
        2
    );
    assert_eq!(connector.discover().await.unwrap(), d);

    let rsa1 = by_id(
        &d.nhis,
        "SHA256:l6itGumSMcRBBAFteCgmjQBIXqLK/jFGUH3viHX1RmE",
    );
    assert_eq!(rsa1.name, "RSA test key #1");
    let files: Vec<_> = strings(rsa1, "paths")
        .iter()
        .map(|p| file_name(p).to_owned())
        .collect();
    assert_eq!(files, ["rsa_1.pub", "rsa_1_sha1.pub", "rsa_1_sha512.pub"]);
    assert!(strings(rsa1, "paths").iter().all(|p| p.ends_with(".pub:1")));
    assert_eq!(fact(rsa1, "key_type"), "rsa");
    assert_eq!(fact(rsa1, "key_bits"), 1024);
    assert_eq!(fact(rsa1, "comment"), "RSA test key #1");
}

fn one(file: &str) -> keyward_model::DiscoveredNhi {
    let c = corpus().unwrap();
    let p = c.join("ssh").join(file);
    let mut got = parse_ssh(&p, &std::fs::read(&p).unwrap()).unwrap();
    assert_eq!(got.keys.len(), 1, "{file}");
    assert!(got.warnings.is_empty(), "{file}: {:?}", got.warnings);
    got.keys.remove(0)
}

#[test]
fn every_key_type_with_its_size() {
    if corpus().is_none() {
        return;
    }
    let cases = [
        (
            "ed25519_1.pub",
            "SHA256:L3k/oJubblSY0lB9Ulsl7emDMnRPKm/8udf2ccwk560",
            "ed25519",
            json!(256),
        ),
        (
            "rsa_2.pub",
            "SHA256:NoQh0XBUuYUSWqnzOzOBnfpgJTRWLMj7BlWAb8IbjeE",
            "rsa",
            json!(2048),
        ),
        (
            "ecdsa_1.pub",
            "SHA256:8ty77fOpABat1y88aNdclQTfU+lVvWe7jYZGw8VYtfg",
            "ecdsa",
            json!(256),
        ),
        (
            "ecdsa_2.pub",
            "SHA256:ed8YniRHA6qCrErCRnzrWxPHxYuA62a+CAFYUVxJgaI",
            "ecdsa",
            json!(521),
        ),
        (
            "ecdsa_sk1.pub",
            "SHA256:Go7HO0CVPYG+BSDSk9ZUJBKGSrtBExp6obTa9iqzIUo",
            "ecdsa-sk",
            json!(256),
        ),
        (
            "ed25519_sk2.pub",
            "SHA256:b9BVPS5vuU4yu/FgweojLLg6zbfmBBoWLUgibdxxsoo",
            "ed25519-sk",
            json!(256),
        ),
        (
            "mldsa44_ed25519_1.pub",
            "SHA256:MHrtMS/Vf35zxTemIBpFyKqv9rT1bd1XMLqM9CnT8WY",
            "mldsa44-ed25519",
            json!(null),
        ),
    ];
    for (file, id, kind, bits) in cases {
        let k = one(&format!("openssh-sshkey-testdata/{file}"));
        assert_eq!(k.external_id, id, "{file}");
        assert_eq!(fact(&k, "key_type"), kind, "{file}");
        assert_eq!(fact(&k, "key_bits"), &bits, "{file}");
        assert_eq!(fact(&k, "certificate"), &json!(null), "{file}");
    }
    let p521 = one("openssh-sshkey-testdata/ecdsa_2.pub");
    assert_eq!(fact(&p521, "curve"), "nistp521");
    assert_eq!(fact(&p521, "ssh_type"), "ecdsa-sha2-nistp521");
    assert_eq!(p521.name, "ECDSA test key #2");
    let sk = one("openssh-sshkey-testdata/ecdsa_sk1.pub");
    assert_eq!(fact(&sk, "security_key"), true);
    assert_eq!(fact(&sk, "application"), "ssh:");
    assert_eq!(fact(&sk, "ssh_type"), "sk-ecdsa-sha2-nistp256@openssh.com");
}

#[test]
fn certificates_read_as_ssh_keygen_shows_them() {
    if corpus().is_none() {
        return;
    }
    let host = one("openssh-sshkey-testdata/rsa_1-cert.pub");
    assert_eq!(fact(&host, "certificate"), true);
    assert_eq!(fact(&host, "cert_type"), "host");
    assert_eq!(fact(&host, "key_id"), "julius");
    assert_eq!(fact(&host, "serial"), 5);
    assert_eq!(strings(&host, "principals"), ["host1", "host2"]);
    assert_eq!(fact(&host, "key_type"), "rsa");
    assert_eq!(fact(&host, "key_bits"), 1024);
    assert_eq!(
        fact(&host, "key_fingerprint"),
        "SHA256:l6itGumSMcRBBAFteCgmjQBIXqLK/jFGUH3viHX1RmE"
    );
    assert_eq!(
        fact(&host, "signing_ca"),
        "SHA256:L3k/oJubblSY0lB9Ulsl7emDMnRPKm/8udf2ccwk560"
    );
    assert_eq!(fact(&host, "signing_ca_key_type"), "ed25519");
    assert_eq!(fact(&host, "signature_algorithm"), "ssh-ed25519");
    assert_eq!(fact(&host, "critical_options"), &json!({}));
    assert_eq!(fact(&host, "extensions"), &json!([]));
    assert_ne!(
        host.external_id,
        fact(&host, "key_fingerprint").as_str().unwrap()
    );

    let user = one("openssh-sshkey-testdata/rsa_1_sha512-cert.pub");
    assert_eq!(fact(&user, "cert_type"), "user");
    assert_eq!(fact(&user, "key_id"), "hugo");
    assert_eq!(strings(&user, "principals"), ["user1", "user2"]);
    assert_eq!(
        fact(&user, "critical_options"),
        &json!({"force-command": "/bin/ls", "source-address": "10.0.0.0/8"})
    );
    assert_eq!(
        strings(&user, "extensions"),
        [
            "permit-X11-forwarding",
            "permit-agent-forwarding",
            "permit-pty",
            "permit-user-rc"
        ]
    );
    assert_eq!(fact(&user, "signature_algorithm"), "rsa-sha2-512");
    assert_eq!(
        fact(&user, "signing_ca"),
        "SHA256:NoQh0XBUuYUSWqnzOzOBnfpgJTRWLMj7BlWAb8IbjeE"
    );
    assert_eq!(fact(&user, "valid_after"), "1998-12-31T14:00:00Z");
    assert_eq!(fact(&user, "valid_before"), "2010-12-31T14:00:00Z");
    assert_eq!(user.created_at, "1998-12-31T14:00:00Z".parse().ok());
    assert_eq!(user.expires_at, "2010-12-31T14:00:00Z".parse().ok());

    let ed = one("openssh-sshkey-testdata/ed25519_1-cert.pub");
    assert_eq!(
        ed.external_id,
        "SHA256:UYt3G1lz3d+U2zn1qnB2GIhTduXrS0igDusIC3adiKo"
    );
    assert_eq!(fact(&ed, "serial"), 8);
    assert_eq!(fact(&ed, "valid_before"), "2010-12-31T23:00:00Z");

    let sk = one("openssh-sshkey-testdata/ecdsa_sk1-cert.pub");
    assert_eq!(fact(&sk, "key_type"), "ecdsa-sk");
    assert_eq!(fact(&sk, "serial"), 7);
    assert_eq!(
        fact(&sk, "signing_ca"),
        "SHA256:KC4XjSeYNROcw0KzN5WvDP9T0b3teDQcdsNfzUIUCPY"
    );
    assert_eq!(fact(&sk, "signature_algorithm"), "ecdsa-sha2-nistp256");

    let ml = one("openssh-sshkey-testdata/mldsa44_ed25519_1-cert.pub");
    assert_eq!(
        ml.external_id,
        "SHA256:o3aabELIQMlkSb2LJ5XGpTxTMmaVnLBUnwBOTsf+b4A"
    );
    assert_eq!(
        fact(&ml, "key_fingerprint"),
        "SHA256:MHrtMS/Vf35zxTemIBpFyKqv9rT1bd1XMLqM9CnT8WY"
    );
    assert_eq!(fact(&ml, "cert_type"), "host");
    assert_eq!(fact(&ml, "serial"), 8);
    assert_eq!(strings(&ml, "principals"), ["host1", "host2"]);
}

#[test]
fn authopt_certificates_carry_their_options() {
    if corpus().is_none() {
        return;
    }
    let key = "SHA256:vZ08/Rjd9iRRa+d+tKgtUzf/x/VzvprBkmCa0GyayQo";
    let ca = "SHA256:xN+M1yQGzXKoHy6TSBC2NnyagRHa5lwAIj6fbvcytF0";
    let all = [
        "permit-X11-forwarding",
        "permit-agent-forwarding",
        "permit-port-forwarding",
        "permit-pty",
        "permit-user-rc",
    ];
    let src = one("openssh-authopt-certs/sourceaddr.cert");
    assert_eq!(src.name, "user key");
    assert_eq!(fact(&src, "key_fingerprint"), key);
    assert_eq!(fact(&src, "signing_ca"), ca);
    assert_eq!(
        fact(&src, "critical_options"),
        &json!({"source-address": "127.0.0.1/32,::1/128"})
    );
    assert_eq!(strings(&src, "extensions"), all);
    assert_eq!(fact(&src, "validity_days"), 364);

    let forced = one("openssh-authopt-certs/force_command.cert");
    assert_eq!(
        fact(&forced, "critical_options"),
        &json!({"force-command": "foo"})
    );
    let unknown = one("openssh-authopt-certs/unknown_critical.cert");
    assert_eq!(fact(&unknown, "critical_options"), &json!({"blah": "foo"}));
    let none = one("openssh-authopt-certs/no_permit.cert");
    assert_eq!(fact(&none, "extensions"), &json!([]));
    let pty = one("openssh-authopt-certs/only_pty.cert");
    assert_eq!(strings(&pty, "extensions"), ["permit-pty"]);
    let no_pty = one("openssh-authopt-certs/no_pty.cert");
    assert_eq!(strings(&no_pty, "extensions").len(), 4);
    assert!(!strings(&no_pty, "extensions").contains(&"permit-pty".to_owned()));
    let host = one("openssh-authopt-certs/host.cert");
    assert_eq!(fact(&host, "cert_type"), "host");
}

#[test]
fn known_hosts_markers_hashes_and_invalid_lines() {
    let Some(c) = corpus() else { return };
    let p = c.join("ssh/openssh-hostkeys-known_hosts");
    let got = parse_ssh(&p, &std::fs::read(&p).unwrap()).unwrap();
    // 23 valid lines; the nine `#6` lines are three keys under three hashed names each.
    assert_eq!(got.keys.len(), 23);
    assert!(got.keys.iter().all(|k| fact(k, "host_key") == true));
    let lines: Vec<_> = got
        .warnings
        .iter()
        .map(|w| w.split(':').nth(1).unwrap().parse::<usize>().unwrap())
        .collect();
    assert_eq!(lines, [37, 38, 39, 40, 41, 42]);
    assert!(
        got.warnings[0].ends_with(":37:1: unknown marker `@what`; line skipped, as ssh skips it")
    );
    assert!(got.warnings[4].contains("unknown key type `ssh-XXX`"));

    let d = SshFiles {
        paths: vec![p.clone()],
        scope: None,
    }
    .read()
    .unwrap();
    assert_eq!(d.nhis.len(), 17);
    assert_eq!(d.scope, format!("files:{}", p.display()));

    let prom = by_id(
        &d.nhis,
        "SHA256:JXeJkhQMDZjX1dgqyzxG2DudGJftvpGwAMvyi7jsxkM",
    );
    assert_eq!(prom.name, "ECDSA #2");
    assert_eq!(
        strings(prom, "hosts"),
        ["192.0.2.1", "2001:db8::1", "prometheus.example.com"]
    );
    assert_eq!(fact(prom, "key_bits"), 521);

    let hashed = by_id(
        &d.nhis,
        "SHA256:mrrAwKwp+JGAttexhZbM4ETyhR/jcKUxv4llrNnktTg",
    );
    assert_eq!(strings(hashed, "hosts").len(), 3);
    assert!(
        strings(hashed, "hosts")
            .iter()
            .all(|h| h.starts_with("|1|"))
    );
    let at: Vec<_> = strings(hashed, "paths")
        .iter()
        .map(|p| p.rsplit(':').next().unwrap().to_owned())
        .collect();
    assert_eq!(at, ["24", "25", "26"]);

    let revoked = by_id(
        &d.nhis,
        "SHA256:hzG0GpDrmmbIbjiSctrqWssCwyM+K8VOEsbyUxmi+hE",
    );
    assert_eq!(fact(revoked, "revoked"), true);
    assert_eq!(revoked.status, Some(NhiStatus::Revoked));
    assert_eq!(strings(revoked, "hosts"), ["sisyphus.example.com"]);

    let ca = by_id(
        &d.nhis,
        "SHA256:Zo5A9XYAGXdUdPkEnXm08WW8Zt0eYLRB9jn88gRmT6Y",
    );
    assert_eq!(fact(ca, "cert_authority"), true);
    assert_eq!(ca.status, None);

    let wild = by_id(
        &d.nhis,
        "SHA256:Dvgj0y2juZF0nXOw6+SH7Zea5IossUwmWJcrA+J1a6s",
    );
    assert_eq!(
        strings(wild, "hosts"),
        ["*.example.com", "192.0.2.*", "2001:*"]
    );
}
