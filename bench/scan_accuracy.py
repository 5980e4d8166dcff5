#!/usr/bin/env python3
"""Scanner accuracy: precision, recall and F1 of Keyward and its peers on a labelled corpus.

Generates a corpus of realistic files (Python, JS/TS, Go, Java, Ruby, PHP, C#, shell, .env,
YAML and Kubernetes manifests, Terraform, JSON, Dockerfiles, GitHub Actions workflows, XML,
INI, .properties, Markdown, test fixtures, PEM files, lock files, minified JS) with credentials
of 46 real formats planted in them, made at run time from a seeded generator (PEM keys come
from openssl/ssh-keygen), and hard decoys that must not be reported (git SHAs, hashes, UUIDs,
base64 images, public keys and certificates, documentation placeholders, environment
look-ups, truncated and wrong-checksum tokens, minified JS, lock-file integrity hashes,
obviously fake test passwords). The labels (path, line span, SHA-256 of the value, format;
never the value) go to target/bench-scan/accuracy-labels.json, outside the scanned tree.

Each tool scans the corpus; a finding on a labelled line (any line of a multi-line secret's
span) is a true positive, counted once per label; a finding on any other line is a false
positive, counted once per (path, line); a label nothing reported on is a false negative.
Prints precision, recall and F1 per tool, recall per format for every tool, and false
positives per decoy kind. Writes target/bench-scan/accuracy.json.

Standard library only; the peers are installed by pip into target/bench-scan/venv.
"""

import argparse
import base64
import gzip
import hashlib
import json
import os
import random
import shutil
import string
import struct
import subprocess
import sys
import tempfile
import zlib

sys.dont_write_bytecode = True  # no bench/__pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scan_common as sc  # noqa: E402

DIGITS = string.digits
UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
ALPHA = string.ascii_letters
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


# ============================================================================================
# Key material (PEM): openssl / ssh-keygen when present, else correctly shaped random bodies


class KeyPool:
    """Makes PEM keys, public keys and certificates; at most `cap` of each, then reused."""

    def __init__(self, rng, cap=24):
        self.rng = rng
        self.cap = cap
        self.pools = {}
        self.tmp = tempfile.mkdtemp(prefix="kw-bench-keys-")
        self.openssl = shutil.which("openssl")
        self.sshkeygen = shutil.which("ssh-keygen")
        self.fallbacks = set()

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def get(self, kind):
        pool = self.pools.setdefault(kind, [])
        if len(pool) < self.cap:
            pool.append(self._make(kind))
            return pool[-1]
        return pool[self.rng.randrange(len(pool))]

    def _run(self, args, stdin=None):
        p = subprocess.run(args, capture_output=True, input=stdin, cwd=self.tmp)
        if p.returncode != 0:
            raise RuntimeError(p.stderr.decode(errors="replace"))
        return p.stdout.decode()

    def _shaped(self, label, der_prefix, n_bytes):
        body = der_prefix + bytes(self.rng.randrange(256) for _ in range(n_bytes))
        b = base64.b64encode(body).decode()
        lines = [b[i:i + 64] for i in range(0, len(b), 64)]
        return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"

    def _make(self, kind):
        try:
            return self._make_real(kind)
        except (OSError, RuntimeError):
            self.fallbacks.add(kind)
            return self._make_shaped(kind)

    def _make_real(self, kind):
        if not self.openssl:
            raise RuntimeError("no openssl")
        if kind == "rsa":
            return self._run([self.openssl, "genrsa", "-traditional", "2048"])
        if kind == "pkcs8":
            return self._run([self.openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        if kind == "ec":
            return self._run([self.openssl, "ecparam", "-name", "prime256v1", "-genkey", "-noout"])
        if kind in ("openssh", "ssh_pub_ed25519"):
            if not self.sshkeygen:
                raise RuntimeError("no ssh-keygen")
            f = os.path.join(self.tmp, f"k{self.rng.randrange(10**9)}")
            subprocess.run([self.sshkeygen, "-q", "-t", "ed25519", "-N", "", "-C", "deploy@ci", "-f", f],
                           check=True, capture_output=True)
            with open(f) as a, open(f + ".pub") as b:
                priv, pub = a.read(), b.read().strip()
            os.remove(f)
            os.remove(f + ".pub")
            return priv if kind == "openssh" else pub
        if kind == "ssh_pub_rsa":
            if not self.sshkeygen:
                raise RuntimeError("no ssh-keygen")
            f = os.path.join(self.tmp, f"r{self.rng.randrange(10**9)}")
            with open(f, "w") as h:
                h.write(self.get("rsa"))
            os.chmod(f, 0o600)
            pub = self._run([self.sshkeygen, "-y", "-f", f]).strip()
            os.remove(f)
            return pub + " " + self.rng.choice(["ops@bastion", "deploy@build-01", "jenkins@ci"])
        if kind == "public_pem":
            return self._run([self.openssl, "pkey", "-pubout"], stdin=self.get("pkcs8").encode())
        if kind == "cert":
            f = os.path.join(self.tmp, "c.key")
            with open(f, "w") as h:
                h.write(self.get("pkcs8"))
            cn = self.rng.choice(["api.example.com", "internal.example.net", "ca.example.org"])
            return self._run([self.openssl, "req", "-x509", "-new", "-key", f, "-subj", f"/CN={cn}",
                              "-days", "365"])
        raise ValueError(kind)

    def _make_shaped(self, kind):
        rng = self.rng
        if kind == "rsa":
            return self._shaped("RSA PRIVATE KEY", bytes.fromhex("308204a40201000282010100"), 1180)
        if kind == "pkcs8":
            return self._shaped("PRIVATE KEY", bytes.fromhex("308204bd020100300d06092a864886f70d0101010500048204a7"), 1200)
        if kind == "ec":
            return self._shaped("EC PRIVATE KEY", bytes.fromhex("30770201010420"), 114)
        if kind == "openssh":
            return self._shaped("OPENSSH PRIVATE KEY", b"openssh-key-v1\x00", 380)
        if kind == "ssh_pub_ed25519":
            blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes(rng.randrange(256) for _ in range(32))
            return "ssh-ed25519 " + base64.b64encode(blob).decode() + " deploy@ci"
        if kind == "ssh_pub_rsa":
            blob = b"\x00\x00\x00\x07ssh-rsa\x00\x00\x00\x03\x01\x00\x01\x00\x00\x01\x01\x00" + bytes(
                rng.randrange(256) for _ in range(256))
            return "ssh-rsa " + base64.b64encode(blob).decode() + " ops@bastion"
        if kind == "public_pem":
            return self._shaped("PUBLIC KEY", bytes.fromhex("30820122300d06092a864886f70d01010105000382010f00"), 270)
        if kind == "cert":
            return self._shaped("CERTIFICATE", bytes.fromhex("308202fa308201e2a003020102"), 750)
        raise ValueError(kind)


# ============================================================================================
# Secret formats


def rs(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def base62(n, width=6):
    s = ""
    while n:
        n, r = divmod(n, 62)
        s = B62[r] + s
    return s.rjust(width, "0")


def github_classic(rng, prefix):
    body = rs(rng, ALNUM, 30)
    return prefix + body + base62(zlib.crc32(body.encode()))


def strong_password(rng, n=None):
    n = n or rng.randint(16, 28)
    pool = ALNUM + "!%^&*-_=+.~"
    while True:
        p = rs(rng, pool, n)
        if (any(c in DIGITS for c in p) and any(c in UPPER for c in p) and any(c in LOWER for c in p)
                and any(c in "!%^&*-_=+.~" for c in p)):
            return p


def url_password(rng):
    """A strong password as it appears in a valid URL: unreserved and sub-delim characters, and
    now and then a percent-encoded one (RFC 3986 userinfo)."""
    n = rng.randint(16, 28)
    while True:
        p = rs(rng, ALNUM + "-._~!*", n)
        if any(c in DIGITS for c in p) and any(c in UPPER for c in p) and any(c in LOWER for c in p):
            break
    if rng.random() < 0.25:
        i = rng.randrange(len(p))
        p = p[:i] + rng.choice(["%40", "%23", "%2F", "%3A", "%25"]) + p[i:]
    return p


def hostname(rng):
    return rng.choice(["db", "pg", "mysql", "primary", "replica", "cache", "redis", "mongo"]) + "-" + \
        rng.choice(["prod", "staging", "eu1", "us-east-1", "internal"]) + "." + \
        rng.choice(["acme-corp.net", "internal.acme.io", "svc.cluster.local", "corp.example-infra.com"])


def b64url_json(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def jwt(rng):
    header = {"alg": rng.choice(["HS256", "RS256"]), "typ": "JWT"}
    payload = {"sub": str(rng.randrange(10**6, 10**7)), "name": rng.choice(["svc-billing", "ci-bot", "ops"]),
               "iat": 1700000000 + rng.randrange(10**7), "exp": 1800000000 + rng.randrange(10**7),
               "scope": rng.choice(["read write", "admin", "deploy"])}
    sig_len = 43 if header["alg"] == "HS256" else 342
    return b64url_json(header) + "." + b64url_json(payload) + "." + rs(rng, B64URL, sig_len)


def gcp_service_account(rng, keys):
    project = rng.choice(["acme-prod", "billing-platform", "data-lake", "ml-infra"]) + "-" + str(rng.randrange(100000, 999999))
    name = rng.choice(["deployer", "ci-runner", "bq-reader", "terraform", "backup"])
    obj = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": rs(rng, HEX, 40),
        "private_key": keys.get("pkcs8"),
        "client_email": f"{name}@{project}.iam.gserviceaccount.com",
        "client_id": str(rng.randrange(10**20, 10**21)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{name}%40{project}.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com",
    }
    return json.dumps(obj, indent=2)


# name -> (kind, generator(rng, keys) -> value, variable-name words)
# kind: token (one line), pem (multi-line PEM), sajson (multi-line JSON), url, password
FORMATS = {
    "aws_access_key_id": ("token", lambda r, k: "AKIA" + rs(r, UPPER + "234567", 16),
                          ["aws access key id", "access key id", "aws key id"]),
    "aws_secret_access_key": ("token", lambda r, k: rs(r, B64, 40),
                              ["aws secret access key", "secret access key", "aws secret key"]),
    "aws_temp_access_key_id": ("token", lambda r, k: "ASIA" + rs(r, UPPER + "234567", 16),
                               ["aws access key id", "sts access key id"]),
    "aws_session_token": ("token", lambda r, k: "IQoJb3JpZ2luX2VjE" + rs(r, B64, r.randint(330, 420)) + "==",
                          ["aws session token", "session token", "security token"]),
    "github_pat_classic": ("token", lambda r, k: github_classic(r, "ghp_"), ["github token", "gh token", "github pat"]),
    "github_oauth_token": ("token", lambda r, k: github_classic(r, "gho_"), ["github oauth token", "oauth token"]),
    "github_app_installation_token": ("token", lambda r, k: github_classic(r, "ghs_"),
                                      ["github app token", "installation token"]),
    "github_app_user_token": ("token", lambda r, k: github_classic(r, "ghu_"), ["github user token", "user to server token"]),
    "github_fine_grained_pat": ("token", lambda r, k: "github_pat_" + rs(r, ALNUM, 22) + "_" + rs(r, ALNUM, 59),
                                ["github token", "github pat", "gh fine grained token"]),
    "gitlab_pat": ("token", lambda r, k: "glpat-" + rs(r, ALNUM + "-_", 20), ["gitlab token", "gitlab private token", "ci token"]),
    "slack_bot_token": ("token", lambda r, k: f"xoxb-{rs(r, DIGITS, 12)}-{rs(r, DIGITS, 13)}-{rs(r, ALNUM, 24)}",
                        ["slack bot token", "slack token", "bot token"]),
    "slack_user_token": ("token", lambda r, k: f"xoxp-{rs(r, DIGITS, 12)}-{rs(r, DIGITS, 12)}-{rs(r, DIGITS, 13)}-{rs(r, HEX, 32)}",
                         ["slack user token", "slack token", "slack oauth token"]),
    "slack_webhook": ("url", lambda r, k: f"https://hooks.slack.com/services/T{rs(r, UPPER + DIGITS, 10)}/B{rs(r, UPPER + DIGITS, 10)}/{rs(r, ALNUM, 24)}",
                      ["slack webhook url", "alerts webhook", "slack hook"]),
    "stripe_secret_key_live": ("token", lambda r, k: "sk_live_" + rs(r, ALNUM, r.choice([24, 99])),
                               ["stripe secret key", "stripe api key", "stripe key"]),
    "stripe_restricted_key_live": ("token", lambda r, k: "rk_live_" + rs(r, ALNUM, r.choice([24, 99])),
                                   ["stripe restricted key", "stripe key"]),
    "sendgrid_api_key": ("token", lambda r, k: "SG." + rs(r, B64URL, 22) + "." + rs(r, B64URL, 43),
                         ["sendgrid api key", "mail api key", "sendgrid key"]),
    "twilio_api_key": ("token", lambda r, k: "SK" + rs(r, HEX, 32), ["twilio api key", "twilio key sid"]),
    "twilio_auth_token": ("token", lambda r, k: rs(r, HEX, 32), ["twilio auth token"]),
    "openai_project_key": ("token", lambda r, k: "sk-proj-" + rs(r, B64URL, 74) + "T3BlbkFJ" + rs(r, B64URL, 74),
                           ["openai api key", "openai key", "llm api key"]),
    "anthropic_api_key": ("token", lambda r, k: "sk-ant-api03-" + rs(r, B64URL, 93) + "AA",
                          ["anthropic api key", "claude api key"]),
    "google_api_key": ("token", lambda r, k: "AIza" + rs(r, B64URL, 35), ["google api key", "maps api key", "firebase api key"]),
    "gcp_service_account": ("sajson", gcp_service_account, ["google credentials", "gcp service account", "credentials json"]),
    "rsa_private_key": ("pem", lambda r, k: k.get("rsa"), ["private key", "rsa private key", "signing key"]),
    "pkcs8_private_key": ("pem", lambda r, k: k.get("pkcs8"), ["private key", "tls key", "jwt signing key"]),
    "ec_private_key": ("pem", lambda r, k: k.get("ec"), ["ec private key", "signing key", "apns key"]),
    "openssh_private_key": ("pem", lambda r, k: k.get("openssh"), ["ssh private key", "deploy key", "ssh key"]),
    "npm_token": ("token", lambda r, k: "npm_" + rs(r, ALNUM, 36), ["npm token", "npm auth token", "registry token"]),
    "pypi_token": ("token", lambda r, k: "pypi-AgEIcHlwaS5vcmc" + rs(r, B64URL, r.randint(130, 170)),
                   ["pypi token", "twine password", "pypi api token"]),
    "dockerhub_pat": ("token", lambda r, k: "dckr_pat_" + rs(r, B64URL, 27), ["docker hub token", "docker password", "registry password"]),
    "vault_token": ("token", lambda r, k: "hvs.CAESI" + rs(r, B64URL, 86), ["vault token"]),
    "jwt": ("token", lambda r, k: jwt(r), ["access token", "auth token", "bearer token", "id token"]),
    "postgres_url": ("url", lambda r, k: f"postgresql://{r.choice(['app', 'billing', 'svc_api', 'admin'])}:{url_password(r)}@{hostname(r)}:5432/{r.choice(['app', 'billing', 'orders'])}",
                     ["database url", "postgres url", "db dsn"]),
    "mysql_url": ("url", lambda r, k: f"mysql://{r.choice(['root', 'wp', 'app'])}:{url_password(r)}@{hostname(r)}:3306/{r.choice(['wordpress', 'shop', 'app'])}",
                  ["mysql url", "database url"]),
    "mongodb_url": ("url", lambda r, k: f"mongodb+srv://{r.choice(['app', 'reporting', 'etl'])}:{url_password(r)}@cluster0.{rs(r, LOWER + DIGITS, 5)}.mongodb.net/{r.choice(['events', 'app'])}?retryWrites=true&w=majority",
                    ["mongo uri", "mongodb url", "mongo url"]),
    "redis_url": ("url", lambda r, k: f"redis://default:{url_password(r)}@{hostname(r)}:6379/0", ["redis url", "cache url", "broker url"]),
    "azure_storage_connection_string": ("url", lambda r, k: "DefaultEndpointsProtocol=https;AccountName="
                                        + r.choice(["acmeprod", "billingstore", "datalake"]) + rs(r, DIGITS, 3)
                                        + ";AccountKey=" + base64.b64encode(bytes(r.randrange(256) for _ in range(64))).decode()
                                        + ";EndpointSuffix=core.windows.net",
                                        ["azure storage connection string", "storage connection string", "blob connection"]),
    "generic_password": ("password", lambda r, k: strong_password(r),
                         ["password", "db password", "smtp password", "admin password", "ldap bind password"]),
    "shopify_access_token": ("token", lambda r, k: "shpat_" + rs(r, HEX, 32), ["shopify access token", "shopify token"]),
    "digitalocean_pat": ("token", lambda r, k: "dop_v1_" + rs(r, HEX, 64), ["digitalocean token", "do token"]),
    "huggingface_token": ("token", lambda r, k: "hf_" + rs(r, ALPHA, 34), ["hf token", "huggingface token"]),
    "mailchimp_api_key": ("token", lambda r, k: rs(r, HEX, 32) + "-us" + str(r.randint(1, 21)), ["mailchimp api key", "mailchimp key"]),
    "azure_ad_client_secret": ("token", lambda r, k: rs(r, ALNUM, 3) + str(r.randint(0, 9)) + "Q~" + rs(r, ALNUM + "_.~-", 34),
                               ["azure client secret", "client secret", "aad client secret"]),
    "age_secret_key": ("token", lambda r, k: "AGE-SECRET-KEY-1" + rs(r, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58),
                       ["age secret key", "sops age key"]),
    "telegram_bot_token": ("token", lambda r, k: f"{r.randint(10**8, 9 * 10**9)}:AA{rs(r, B64URL, 33)}", ["telegram bot token", "telegram token"]),
    "discord_webhook": ("url", lambda r, k: f"https://discord.com/api/webhooks/{rs(r, DIGITS, 18)}/{rs(r, B64URL, 68)}",
                        ["discord webhook url", "discord webhook"]),
    "datadog_api_key": ("token", lambda r, k: rs(r, HEX, 32), ["datadog api key", "dd api key"]),
}

# Formats that only make sense next to a partner (written as a group).
AWS_PAIR = ["aws_access_key_id", "aws_secret_access_key"]
AWS_SESSION = ["aws_temp_access_key_id", "aws_secret_access_key", "aws_session_token"]
TWILIO_PAIR = ["twilio_api_key", "twilio_auth_token"]

# ============================================================================================
# Names


def words_to(style, words):
    w = words.replace("-", " ").split()
    if style == "UPPER":
        return "_".join(x.upper() for x in w)
    if style == "snake":
        return "_".join(x.lower() for x in w)
    if style == "camel":
        return w[0].lower() + "".join(x.capitalize() for x in w[1:])
    if style == "Pascal":
        return "".join(x.capitalize() for x in w)
    if style == "kebab":
        return "-".join(x.lower() for x in w)
    if style == "dotted":
        return ".".join(x.lower() for x in w)
    raise ValueError(style)


def names(words):
    return {s: words_to(s, words) for s in ("UPPER", "snake", "camel", "Pascal", "kebab", "dotted")}


NOUNS = ["order", "invoice", "customer", "payment", "account", "session", "report", "user", "event", "shipment",
         "ticket", "product", "cart", "refund", "webhook", "tenant", "job", "metric", "export", "profile",
         "subscription", "ledger", "message", "notification", "document", "upload", "build", "release"]
VERBS = ["load", "sync", "fetch", "build", "parse", "render", "validate", "process", "publish", "archive",
         "resolve", "collect", "compute", "refresh", "dispatch", "import", "export", "schedule"]
ADJS = ["billing", "payments", "search", "identity", "catalog", "inventory", "shipping", "analytics",
        "notify", "gateway", "ledger", "reporting", "checkout", "media", "auth", "sync", "audit", "pricing"]
ATTRS = ["status", "created_at", "amount", "priority", "retries", "size", "weight", "score", "count"]


class Words:
    def __init__(self, rng):
        self.r = rng

    def noun(self):
        return self.r.choice(NOUNS)

    def verb(self):
        return self.r.choice(VERBS)

    def adj(self):
        return self.r.choice(ADJS)

    def attr(self):
        return self.r.choice(ATTRS)

    def num(self):
        return self.r.choice([3, 5, 10, 30, 60, 100, 250, 1000, 4096])


# ============================================================================================
# Languages: how a value is assigned, how a multi-line value is embedded, environment
# look-ups, filler code


# Single-line assignment templates. {v} is the value; several lines allowed ("\n"), the label
# line is the line holding {v}.
ASSIGN = {
    "python": ['{UPPER} = "{v}"', "{snake} = '{v}'", '    "{snake}": "{v}",', 'os.environ.setdefault("{UPPER}", "{v}")',
               'client = {Pascal}Client({snake}="{v}")', "{snake}: str = \"{v}\""],
    "js": ['const {camel} = "{v}";', "const {UPPER} = '{v}';", '  {camel}: "{v}",', "export const {UPPER} = `{v}`;",
           'process.env.{UPPER} = process.env.{UPPER} || "{v}";'],
    "ts": ['export const {camel}: string = "{v}";', "  private readonly {camel} = '{v}';", '  {camel}: "{v}",',
           'const {UPPER} = "{v}" as const;'],
    "go": ['const {camel} = "{v}"', 'const {Pascal} = "{v}"', '\t\t{Pascal}: "{v}",', '\tos.Setenv("{UPPER}", "{v}")',
           'var {camel} = "{v}"'],
    "java": ['    private static final String {UPPER} = "{v}";', '        String {camel} = "{v}";',
             '        props.setProperty("{dotted}", "{v}");', '    @Value("{v}")\n    private String {camel};'],
    "ruby": ["{UPPER} = '{v}'", '  config.{snake} = "{v}"', "  {snake}: '{v}',", 'ENV["{UPPER}"] ||= "{v}"'],
    "php": ["${camel} = '{v}';", "define('{UPPER}', '{v}');", "    '{snake}' => '{v}',", '$config["{snake}"] = "{v}";'],
    "csharp": ['        private const string {Pascal} = "{v}";', '            var {camel} = "{v}";',
               '                {Pascal} = "{v}",', '            Environment.SetEnvironmentVariable("{UPPER}", "{v}");'],
    "shell": ['export {UPPER}="{v}"', "{UPPER}='{v}'", 'export {UPPER}={v}', '  --{kebab} "{v}" \\'],
    "env": ["{UPPER}={v}", '{UPPER}="{v}"', "export {UPPER}={v}"],
    "yaml": ["{snake}: {v}", '  {snake}: "{v}"', "    {camel}: '{v}'", "  {kebab}: {v}"],
    "k8s": ['  {kebab}: "{v}"', '            - name: {UPPER}\n              value: "{v}"', "  {snake}: {v}"],
    "terraform": ['  {snake} = "{v}"', 'variable "{snake}" {{\n  type    = string\n  default = "{v}"\n}}'],
    "json": ['  "{camel}": "{v}",', '    "{snake}": "{v}",', '      "{Pascal}": "{v}",'],
    "dockerfile": ["ENV {UPPER}={v}", "ARG {UPPER}={v}", 'ENV {UPPER}="{v}"'],
    "gha": ["          {UPPER}: {v}", "      {UPPER}: '{v}'", '          {snake}: "{v}"'],
    "xml": ['    <add key="{Pascal}" value="{v}" />', "    <{camel}>{v}</{camel}>", '  <property name="{dotted}" value="{v}"/>'],
    "ini": ["{snake} = {v}", "{snake}={v}"],
    "properties": ["{dotted}={v}", "{dotted} = {v}", "spring.datasource.{camel}={v}"],
    "markdown": ["    export {UPPER}={v}", "`{UPPER}={v}`", "| `{UPPER}` | `{v}` | set in production |", "    {snake}: {v}"],
}

# Multi-line value embeddings. {first} .. {last}: the PEM (or JSON) lines; the label span is
# every line the value occupies.
MULTI = {
    "python": ('{UPPER} = """', '"""'),
    "js": ("const {camel} = `", "`;"),
    "ts": ("export const {camel} = `", "`;"),
    "go": ("var {camel} = `", "`"),
    "java": ('    private static final String {UPPER} = """', '        """;'),
    "ruby": ("{UPPER} = <<~PEM", "PEM"),
    "php": ("${camel} = <<<'PEM'", "PEM;"),
    "csharp": ('        private const string {Pascal} = @"', '";'),
    "shell": ("cat > /etc/{snake}.pem <<'EOF'", "EOF"),
    "yaml": ("{snake}: |", None),  # indented block scalar
    "k8s": ("  {kebab}: |", None),
    "terraform": ("  {snake} = <<-EOT", "  EOT"),
    "xml": ("    <{Pascal}>", "    </{Pascal}>"),
    "markdown": ("```", "```"),
    "gha": ("          {UPPER}: |", None),
}
# Where a multi-line value sits on one line with \n escapes.
ESCAPED_ONE_LINE = {"json", "env", "dockerfile", "properties", "ini"}

ENV_LOOKUP = {
    "python": ['{snake} = os.environ["{UPPER}"]', '{snake} = os.getenv("{UPPER}")'],
    "js": ["const {camel} = process.env.{UPPER};", "  {camel}: process.env.{UPPER},"],
    "ts": ["const {camel}: string = process.env.{UPPER} ?? '';"],
    "go": ['\t{camel} := os.Getenv("{UPPER}")'],
    "java": ['        String {camel} = System.getenv("{UPPER}");'],
    "ruby": ['{snake} = ENV.fetch("{UPPER}")', "  config.{snake} = ENV['{UPPER}']"],
    "php": ["${camel} = getenv('{UPPER}');", "    '{snake}' => env('{UPPER}'),"],
    "csharp": ['            var {camel} = Environment.GetEnvironmentVariable("{UPPER}");'],
    "shell": ['{UPPER}="${{{UPPER}:?{UPPER} must be set}}"', 'curl -H "Authorization: Bearer ${{{UPPER}}}" "$API_URL"'],
    "env": ["{UPPER}=${{{UPPER}}}"],
    "yaml": ["{snake}: ${{{UPPER}}}"],
    "k8s": ["            - name: {UPPER}\n              valueFrom:\n                secretKeyRef:\n                  name: app-secrets\n                  key: {kebab}"],
    "terraform": ["  {snake} = var.{snake}"],
    "json": ['  "{camel}": "${{{UPPER}}}",'],
    "dockerfile": ["ARG {UPPER}\nENV {UPPER}=${{{UPPER}}}"],
    "gha": ["          {UPPER}: ${{{{ secrets.{UPPER} }}}}"],
    "xml": ['    <add key="{Pascal}" value="%{UPPER}%" />'],
    "ini": ["{snake} = %(ENV_{UPPER})s"],
    "properties": ["{dotted}=${{{UPPER}}}"],
    "markdown": ["    export {UPPER}=$(vault kv get -field={snake} secret/app)"],
}

COMMENT = {"python": "#", "js": "//", "ts": "//", "go": "//", "java": "//", "ruby": "#", "php": "//", "csharp": "//",
           "shell": "#", "env": "#", "yaml": "#", "k8s": "#", "terraform": "#", "json": None, "dockerfile": "#",
           "gha": "#", "xml": None, "ini": ";", "properties": "#", "markdown": None}


def filler(lang, w, n):
    """About n lines of plausible, secret-free content in `lang`."""
    out = []
    r = w.r
    while len(out) < n:
        noun, verb, attr, num, adj = w.noun(), w.verb(), w.attr(), w.num(), w.adj()
        Noun = noun.capitalize()
        if lang == "python":
            out += [f"def {verb}_{noun}s(items, limit={num}):", f'    """{verb.capitalize()} the {noun}s, at most {num} at a time."""',
                    "    result = []", "    for item in items[:limit]:", f"        if item.{attr} is None:", "            continue",
                    f'        logger.debug("{verb} %s", item.id)', "        result.append(item)", "    return result", ""]
            if r.random() < 0.4:
                out += [f"class {Noun}{verb.capitalize()}er:", f"    timeout = {num}", "", "    def __init__(self, session):",
                        "        self.session = session", f"        self.{attr} = 0", "",
                        "    def run(self, payload):", f"        return self.session.post('/{noun}s', json=payload, timeout=self.timeout)", ""]
        elif lang in ("js", "ts"):
            typ = ": number" if lang == "ts" else ""
            out += [f"export async function {verb}{Noun}s(client, limit{typ} = {num}) {{",
                    f"  const res = await client.get(`/api/{noun}s?limit=${{limit}}`);",
                    f"  return res.data.filter((x) => x.{attr} !== undefined);", "}", ""]
            if r.random() < 0.4:
                out += [f"export const {noun}Defaults = {{", f"  retries: {num % 7},", f"  endpoint: '/api/{noun}s',",
                        f"  label: '{adj} {noun}',", "};", ""]
        elif lang == "go":
            out += [f"func {verb.capitalize()}{Noun}s(ctx context.Context, db *sql.DB, limit int) ([]{Noun}, error) {{",
                    f'\trows, err := db.QueryContext(ctx, "SELECT id, {attr} FROM {noun}s LIMIT $1", limit)',
                    "\tif err != nil {", f'\t\treturn nil, fmt.Errorf("{verb} {noun}s: %w", err)', "\t}", "\tdefer rows.Close()",
                    f"\tvar out []{Noun}", "\tfor rows.Next() {", f"\t\tvar x {Noun}", f"\t\tif err := rows.Scan(&x.ID, &x.{attr.capitalize()}); err != nil {{",
                    "\t\t\treturn nil, err", "\t\t}", "\t\tout = append(out, x)", "\t}", "\treturn out, rows.Err()", "}", ""]
        elif lang == "java":
            out += [f"    public List<{Noun}> {verb}{Noun}s(int limit) {{", f"        List<{Noun}> out = new ArrayList<>();",
                    f"        for ({Noun} x : repository.findAll(PageRequest.of(0, limit))) {{",
                    f"            if (x.get{attr.capitalize().replace('_', '')}() != null) {{", "                out.add(x);", "            }", "        }",
                    f'        log.info("{verb} {{}} {noun}s", out.size());', "        return out;", "    }", ""]
        elif lang == "ruby":
            out += [f"  def {verb}_{noun}s(limit = {num})", f"    {Noun}.where.not({attr}: nil).limit(limit).map do |x|",
                    f"      x.slice(:id, :{attr})", "    end", "  end", ""]
        elif lang == "php":
            out += [f"    public function {verb}{Noun}s(int $limit = {num}): array", "    {",
                    f"        return $this->db->table('{noun}s')->whereNotNull('{attr}')->limit($limit)->get();", "    }", ""]
        elif lang == "csharp":
            out += [f"        public async Task<IReadOnlyList<{Noun}>> {verb.capitalize()}{Noun}sAsync(int limit = {num})", "        {",
                    f"            var items = await _db.{Noun}s.Where(x => x.{attr.capitalize()} != null).Take(limit).ToListAsync();",
                    f'            _logger.LogInformation("{verb} {{Count}} {noun}s", items.Count);', "            return items;", "        }", ""]
        elif lang == "shell":
            out += [f"{verb}_{noun}s() {{", f'  local limit="${{1:-{num}}}"', f'  echo "{verb} {noun}s (limit $limit)" >&2',
                    f'  psql "$DATABASE_URL" -Atc "SELECT id FROM {noun}s LIMIT $limit" | while read -r id; do',
                    f'    ./bin/{adj}-worker --{noun} "$id" || log_warn "failed: $id"', "  done", "}", ""]
        elif lang == "env":
            out += [f"{adj.upper()}_{noun.upper()}_LIMIT={num}", f"{adj.upper()}_LOG_LEVEL={r.choice(['info', 'debug', 'warn'])}",
                    f"{noun.upper()}_QUEUE={adj}-{noun}s", ""]
        elif lang in ("yaml", "k8s", "gha"):
            ind = "    " if lang == "gha" else "  "
            out += [f"{ind}{noun}_limit: {num}", f"{ind}{attr}: {r.choice(['true', 'false', num])}", f"{ind}queue: {adj}-{noun}s",
                    f"{ind}endpoint: https://{adj}.internal.acme.io/{noun}s"]
        elif lang == "terraform":
            out += [f'resource "aws_sqs_queue" "{adj}_{noun}" {{', f'  name                       = "{adj}-{noun}s"',
                    f"  visibility_timeout_seconds = {num}", "  tags = {", f'    team = "{adj}"', "  }", "}", ""]
        elif lang == "json":
            out += [f'  "{noun}Limit": {num},', f'  "{attr}": "{adj}",', f'  "{noun}Endpoint": "https://{adj}.internal.acme.io/{noun}s",']
        elif lang == "dockerfile":
            out += [f"RUN pip install --no-cache-dir {adj}-{noun}=={num % 9}.{num % 7}.0", f"COPY {noun}s/ /app/{noun}s/",
                    f"ENV {noun.upper()}_LIMIT={num}"]
        elif lang == "xml":
            out += [f'    <add key="{Noun}Limit" value="{num}" />', f"    <{noun}Queue>{adj}-{noun}s</{noun}Queue>"]
        elif lang == "ini":
            out += [f"[{adj}.{noun}]", f"limit = {num}", f"{attr} = {adj}", ""]
        elif lang == "properties":
            out += [f"{adj}.{noun}.limit={num}", f"{adj}.{noun}.{attr}=true", f"logging.level.com.acme.{adj}=INFO"]
        elif lang == "markdown":
            out += [f"## {verb.capitalize()} {noun}s", "",
                    f"The {adj} service {verb}s {noun}s in batches of {num}. Set the limit with `{noun.upper()}_LIMIT`",
                    f"and read the {attr} from the `/{noun}s` endpoint.", ""]
        else:
            out.append(f"# {verb} {noun}")
    return out


def header(lang, w, path):
    r = w.r
    adj, noun = w.adj(), w.noun()
    if lang == "python":
        return ['"""' + f"{adj.capitalize()} {noun} helpers." + '"""', "", "import logging", "import os", "", "import requests", "",
                "logger = logging.getLogger(__name__)", ""]
    if lang == "js":
        return ["'use strict';", "", "const axios = require('axios');", f"const {{ {noun}Schema }} = require('./schema');", ""]
    if lang == "ts":
        return ["import axios from 'axios';", f"import {{ {noun.capitalize()} }} from './types';", ""]
    if lang == "go":
        return [f"package {adj}", "", "import (", '\t"context"', '\t"database/sql"', '\t"fmt"', '\t"os"', ")", ""]
    if lang == "java":
        return [f"package com.acme.{adj};", "", "import java.util.ArrayList;", "import java.util.List;", "",
                f"public class {noun.capitalize()}Service {{", ""]
    if lang == "ruby":
        return ["# frozen_string_literal: true", "", f"module {adj.capitalize()}", ""]
    if lang == "php":
        return ["<?php", "", f"namespace App\\{adj.capitalize()};", ""]
    if lang == "csharp":
        return ["using System;", "using System.Linq;", "using System.Threading.Tasks;", "", f"namespace Acme.{adj.capitalize()}", "{",
                f"    public class {noun.capitalize()}Service", "    {"]
    if lang == "shell":
        return ["#!/usr/bin/env bash", "set -euo pipefail", "", f'API_URL="https://{adj}.internal.acme.io"', ""]
    if lang == "k8s":
        kind = k8s_kind(path)
        if kind == "Secret":
            return ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {adj}-{noun}-secrets", f"  namespace: {adj}",
                    "type: Opaque", "stringData:"]
        if kind == "Deployment":
            return ["apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {adj}-{noun}", "spec:", "  replicas: 2",
                    "  template:", "    spec:", "      containers:", f"        - name: {adj}", f"          image: registry.acme.io/{adj}:1.{r.randrange(40)}.0",
                    "          env:"]
        return ["apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {adj}-config", "data:"]
    if lang == "terraform":
        return ['terraform {', '  required_version = ">= 1.5"', "}", "", 'provider "aws" {', f'  region = "{r.choice(["eu-west-1", "us-east-1"])}"', "}", ""]
    if lang == "json":
        return ["{", f'  "name": "{adj}-{noun}",', f'  "version": "1.{r.randrange(30)}.0",']
    if lang == "dockerfile":
        return [f"FROM python:3.{r.randrange(9, 13)}-slim", "WORKDIR /app"]
    if lang == "gha":
        return [f"name: {adj} ci", "on:", "  push:", "    branches: [main]", "jobs:", "  build:", "    runs-on: ubuntu-latest",
                "    steps:", "      - uses: actions/checkout@v4", "      - name: deploy", "        run: ./scripts/deploy.sh", "        env:"]
    if lang == "xml":
        return ['<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <appSettings>"]
    if lang == "ini":
        return ["[DEFAULT]", f"service = {adj}", ""]
    if lang == "markdown":
        return [f"# {adj.capitalize()} {noun} service", "", "How to run it locally and in staging.", ""]
    if lang == "yaml":
        return [f"service: {adj}-{noun}", "settings:"]
    return []


def k8s_kind(path):
    base = os.path.basename(path)
    if "deployment" in base:
        return "Deployment"
    if "configmap" in base:
        return "ConfigMap"
    if "secret" in base:
        return "Secret"
    return ["Secret", "Deployment", "ConfigMap"][zlib.crc32(path.encode()) % 3]


K8S_ASSIGN = {"Secret": ['  {kebab}: "{v}"', "  {snake}: {v}"],
              "ConfigMap": ['  {snake}: "{v}"', "  {kebab}: {v}"],
              "Deployment": ['            - name: {UPPER}\n              value: "{v}"']}


def footer(lang):
    return {"java": ["}"], "ruby": ["end"], "csharp": ["    }", "}"], "json": ['  "end": true', "}"],
            "xml": ["  </appSettings>", "</configuration>"]}.get(lang, [])


# ============================================================================================
# Decoys


def png_base64(rng):
    w, h = rng.randint(8, 24), rng.randint(8, 24)
    raw = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(w * 3)) for _ in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(png).decode()


def gzip_base64(rng):
    doc = json.dumps([{"id": i, "sku": f"SKU-{rng.randrange(10**6)}", "qty": rng.randrange(50)} for i in range(rng.randint(5, 20))])
    return base64.b64encode(gzip.compress(doc.encode(), mtime=0)).decode()


def uuid4(rng):
    h = rs(rng, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:]}"


PLACEHOLDERS = ["<your-token>", "<YOUR_API_KEY>", "your-api-key-here", "REPLACE_ME", "${GITHUB_TOKEN}", "${DB_PASSWORD}",
                "{{ secrets.DEPLOY_TOKEN }}", "${{ secrets.NPM_TOKEN }}", "{{ .Values.apiKey }}", "changeme", "CHANGEME",
                "xxxxxxxxxxxxxxxxxxxxxxxx", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
                "********", "<password>", "%API_KEY%", "TODO"]
FAKE_PASSWORDS = ["password123", "test1234", "hunter2", "secret", "fakepassword", "P@ssw0rd", "dummy-password", "notasecret",
                  "testpass", "admin123"]


def wrong_checksum_github(rng):
    body = rs(rng, ALNUM, 30)
    good = base62(zlib.crc32(body.encode()))
    while True:
        bad = rs(rng, ALNUM, 6)
        if bad != good:
            return "ghp_" + body + bad


# kind -> (value generator(rng, keys), variable-name words, multi-line?)
DECOYS = {
    "git_sha": (lambda r, k: rs(r, HEX, 40), ["commit sha", "revision", "build commit", "git sha"], False),
    "sha256_hash": (lambda r, k: r.choice(["", "sha256:"]) + rs(r, HEX, 64), ["checksum", "sha256", "image digest", "digest"], False),
    "md5_hash": (lambda r, k: rs(r, HEX, 32), ["etag", "md5sum", "content md5", "cache key"], False),
    "uuid": (lambda r, k: uuid4(r), ["request id", "correlation id", "tenant id", "installation id", "trace id"], False),
    "base64_image": (lambda r, k: png_base64(r), ["logo", "icon data", "placeholder image", "avatar"], False),
    "base64_data": (lambda r, k: gzip_base64(r), ["fixture blob", "compressed payload", "seed data"], False),
    "ssh_public_key": (lambda r, k: k.get(r.choice(["ssh_pub_rsa", "ssh_pub_ed25519"])),
                       ["authorized key", "deploy public key", "ssh public key"], False),
    "public_key_pem": (lambda r, k: k.get("public_pem"), ["public key", "jwt public key", "verification key"], True),
    "certificate_pem": (lambda r, k: k.get("cert"), ["ca cert", "tls cert", "certificate"], True),
    "aws_example_key_id": (lambda r, k: "AKIAIOSFODNN7EXAMPLE", ["aws access key id"], False),
    "aws_example_secret": (lambda r, k: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ["aws secret access key"], False),
    "placeholder": (lambda r, k: r.choice(PLACEHOLDERS), ["api token", "github token", "api key", "password", "client secret", "auth token"], False),
    "env_lookup": (None, ["api token", "github token", "database password", "stripe secret key", "aws secret access key", "client secret"], False),
    "truncated_token": (lambda r, k: r.choice(["ghp_" + rs(r, ALNUM, 20), "sk_live_" + rs(r, ALNUM, 8), "xoxb-" + rs(r, DIGITS, 6) + "-",
                                               "glpat-" + rs(r, ALNUM, 8), "AKIA" + rs(r, UPPER, 8), "sk-proj-" + rs(r, ALNUM, 12)]),
                        ["github token", "stripe key", "slack token", "api key"], False),
    "bad_checksum_github_token": (lambda r, k: wrong_checksum_github(r), ["github token", "gh token"], False),
    "fake_test_password": (lambda r, k: r.choice(FAKE_PASSWORDS), ["password", "test password", "admin password", "user password"], False),
}
# fake_test_password appears only in test files; minified_js and lockfile_hash are whole files.

# ============================================================================================
# Files


class FileBuilder:
    def __init__(self, path, lang):
        self.path = path
        self.lang = lang
        self.lines = []
        self.labels = []
        self.decoys = []

    def add(self, lines):
        self.lines.extend(lines)

    def _place(self, text_lines, value_line_offsets):
        start = len(self.lines) + 1
        self.lines.extend(text_lines)
        lo, hi = value_line_offsets
        return start + lo, start + hi

    def secret(self, fmt, value, text_lines, span):
        line, end = self._place(text_lines, span)
        self.labels.append({"path": self.path, "line": line, "end_line": end, "format": fmt,
                            "sha256": hashlib.sha256(value.encode()).hexdigest()})

    def decoy(self, kind, text_lines, span):
        line, end = self._place(text_lines, span)
        self.decoys.append({"path": self.path, "line": line, "end_line": end, "kind": kind})

    def text(self):
        return "\n".join(self.lines) + "\n"


def render(template, nm, value):
    """Template -> (lines, (first, last) offsets of the lines that hold the value)."""
    s = template.format(v="\0", **nm)
    lines = s.split("\n")
    for i, ln in enumerate(lines):
        if "\0" in ln:
            return [x.replace("\0", value) for x in lines], (i, i)
    return lines, (0, len(lines) - 1)


def render_multi(lang, nm, value):
    """A multi-line value (PEM, JSON) embedded in `lang`: (lines, span offsets)."""
    body = value.rstrip("\n").split("\n")
    if lang == "json" and value.lstrip().startswith("{"):  # a JSON document nested as an object
        lines = value.rstrip("\n").split("\n")
        out = [f'  "{nm["camel"]}": ' + lines[0]] + ["  " + x for x in lines[1:-1]] + ["  " + lines[-1] + ","]
        return out, (0, len(out) - 1)
    if lang in ESCAPED_ONE_LINE or lang not in MULTI:
        esc = value.rstrip("\n").replace("\n", "\\n")
        if "\"" in esc:
            esc = esc.replace("\"", "\\\"")
        tmpl = {"env": '{UPPER}="{v}"', "dockerfile": 'ENV {UPPER}="{v}"', "properties": "{dotted}={v}",
                "ini": "{snake} = {v}"}.get(lang) or ASSIGN.get(lang, ["{UPPER}={v}"])[0]
        return render(tmpl, nm, esc)
    opening, closing = MULTI[lang]
    op = opening.format(**nm)
    if closing is None:  # YAML block scalar: indent the body under the key
        ind = " " * (len(op) - len(op.lstrip()) + 2)
        lines = [op] + [ind + b for b in body]
        return lines, (1, len(lines) - 1)
    if lang == "markdown":
        lines = [op] + body + [closing]
        return lines, (1, len(body))
    # Opening quote and first line joined where the language allows it.
    if lang in ("python", "js", "ts", "go", "csharp"):
        lines = [op + body[0]] + body[1:-1] + [body[-1] + closing]
        return lines, (0, len(lines) - 1)
    lines = [op] + body + [closing.format(**nm)]
    return lines, (1, len(body))


LANG_OF_EXT = {".py": "python", ".js": "js", ".ts": "ts", ".go": "go", ".java": "java", ".rb": "ruby", ".php": "php",
               ".cs": "csharp", ".sh": "shell", ".tf": "terraform", ".xml": "xml", ".ini": "ini", ".cfg": "ini",
               ".properties": "properties", ".md": "markdown"}

# (weight, kind): kind decides path and language
FILE_KINDS = [
    (10, "python"), (5, "js"), (5, "ts"), (6, "go"), (5, "java"), (4, "ruby"), (4, "php"), (4, "csharp"), (4, "shell"),
    (4, "env"), (4, "yaml"), (5, "k8s"), (4, "terraform"), (4, "json"), (2, "appsettings"), (2, "dockerfile"),
    (3, "gha"), (3, "xml"), (2, "ini"), (3, "properties"), (5, "markdown"), (5, "test"), (1, "pemfile"),
    (1, "safile"), (2, "compose"), (2, "lockfile"), (2, "minified"),
]


def pick_path(kind, w, proj, used):
    r = w.r
    adj, noun, verb = w.adj(), w.noun(), w.verb()
    env = r.choice(["prod", "staging", "dev"])
    opts = {
        "python": [f"{proj}/app/{noun}_{verb}.py", f"{proj}/{adj}/settings.py", f"{proj}/{adj}/{noun}s/client.py",
                   f"{proj}/scripts/{verb}_{noun}s.py"],
        "js": [f"{proj}/src/{noun}{verb.capitalize()}.js", f"{proj}/config/{env}.js", f"{proj}/lib/{adj}-{noun}.js"],
        "ts": [f"{proj}/src/services/{noun}.service.ts", f"{proj}/src/config/{env}.ts", f"{proj}/src/{adj}/{noun}.ts"],
        "go": [f"{proj}/internal/{adj}/{noun}.go", f"{proj}/cmd/{adj}/main.go", f"{proj}/pkg/{noun}/{verb}.go"],
        "java": [f"{proj}/src/main/java/com/acme/{adj}/{noun.capitalize()}Service.java",
                 f"{proj}/src/main/java/com/acme/{adj}/config/{noun.capitalize()}Config.java"],
        "ruby": [f"{proj}/app/models/{noun}.rb", f"{proj}/config/initializers/{adj}.rb", f"{proj}/lib/{adj}/{noun}_{verb}er.rb"],
        "php": [f"{proj}/src/{noun.capitalize()}Controller.php", f"{proj}/config/{adj}.php", f"{proj}/wp-config-{env}.php"],
        "csharp": [f"{proj}/src/{adj.capitalize()}/{noun.capitalize()}Service.cs", f"{proj}/src/Startup.{env}.cs"],
        "shell": [f"{proj}/scripts/{verb}-{noun}s.sh", f"{proj}/deploy/{env}.sh", f"{proj}/bin/{adj}-bootstrap.sh"],
        "env": [f"{proj}/.env", f"{proj}/.env.{env}", f"{proj}/{adj}/.env.local", f"{proj}/config/{env}.env"],
        "yaml": [f"{proj}/config/{env}.yaml", f"{proj}/config/{adj}.yml", f"{proj}/helm/{adj}/values-{env}.yaml"],
        "k8s": [f"{proj}/deploy/k8s/{adj}/{r.choice(['secret', 'deployment', 'configmap'])}.yaml", f"{proj}/manifests/{env}/{noun}.yaml"],
        "terraform": [f"{proj}/infra/{env}/main.tf", f"{proj}/infra/modules/{adj}/{noun}.tf", f"{proj}/infra/{env}/providers.tf"],
        "json": [f"{proj}/config/{env}.json", f"{proj}/{adj}.config.json", f"{proj}/.vscode/settings.json"],
        "appsettings": [f"{proj}/src/appsettings.{env.capitalize()}.json", f"{proj}/appsettings.json"],
        "dockerfile": [f"{proj}/Dockerfile", f"{proj}/docker/{adj}/Dockerfile", f"{proj}/Dockerfile.{env}"],
        "gha": [f"{proj}/.github/workflows/{verb}.yml", f"{proj}/.github/workflows/{env}-deploy.yml"],
        "xml": [f"{proj}/Web.{env}.config", f"{proj}/src/main/resources/{adj}-context.xml", f"{proj}/conf/{noun}.xml"],
        "ini": [f"{proj}/config/{adj}.ini", f"{proj}/setup.cfg", f"{proj}/conf/{env}.ini"],
        "properties": [f"{proj}/src/main/resources/application-{env}.properties", f"{proj}/conf/{adj}.properties"],
        "markdown": [f"{proj}/README.md", f"{proj}/docs/{verb}-{noun}s.md", f"{proj}/docs/setup-{env}.md", f"{proj}/CONTRIBUTING.md"],
        "test": [f"{proj}/tests/test_{noun}_{verb}.py", f"{proj}/tests/fixtures/{noun}s.json", f"{proj}/spec/{noun}_spec.rb",
                 f"{proj}/src/__tests__/{noun}.test.js", f"{proj}/testdata/{adj}_{noun}.yaml"],
        "pemfile": [f"{proj}/keys/{adj}.pem", f"{proj}/certs/{env}/server.key", f"{proj}/deploy/id_{r.choice(['rsa', 'ed25519', 'ecdsa'])}"],
        "safile": [f"{proj}/credentials/{adj}-sa.json", f"{proj}/gcp-key-{env}.json", f"{proj}/secrets/service-account.json"],
        "compose": [f"{proj}/docker-compose.yml", f"{proj}/docker-compose.{env}.yml"],
        "lockfile": [f"{proj}/package-lock.json", f"{proj}/yarn.lock", f"{proj}/poetry.lock", f"{proj}/go.sum"],
        "minified": [f"{proj}/static/vendor/{adj}.min.js", f"{proj}/public/assets/app.{rs(r, HEX, 8)}.min.js"],
    }[kind]
    for _ in range(20):
        p = r.choice(opts)
        if p not in used:
            used.add(p)
            return p
    base, ext = os.path.splitext(r.choice(opts))
    p = f"{base}-{len(used)}{ext}"
    used.add(p)
    return p


def lang_for(kind, path):
    if kind in ("python", "js", "ts", "go", "java", "ruby", "php", "csharp", "shell", "env", "yaml", "k8s", "terraform",
                "json", "dockerfile", "gha", "xml", "ini", "properties", "markdown"):
        return kind
    if kind == "appsettings":
        return "json"
    if kind == "compose":
        return "yaml"
    if kind == "test":
        ext = os.path.splitext(path)[1]
        return {".py": "python", ".json": "json", ".rb": "ruby", ".js": "js", ".yaml": "yaml"}[ext]
    return kind


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.w = Words(self.rng)
        self.keys = KeyPool(random.Random(seed + 1))
        self.format_names = list(FORMATS)

    def close(self):
        self.keys.close()

    def value(self, fmt):
        kind, gen, words = FORMATS[fmt]
        return gen(self.rng, self.keys), kind, self.rng.choice(words)

    def plant(self, fb, fmt):
        """Plants one secret (or a group: AWS pair, session triple, Twilio pair) in fb."""
        group = {"aws_access_key_id": AWS_PAIR, "aws_temp_access_key_id": AWS_SESSION, "twilio_api_key": TWILIO_PAIR}.get(fmt, [fmt])
        lang = fb.lang
        for f in group:
            value, kind, words = self.value(f)
            nm = names(words)
            if kind in ("pem", "sajson"):
                if fb.lang == "pem":
                    lines = value.rstrip("\n").split("\n")
                    fb.secret(f, value, lines, (0, len(lines) - 1))
                    continue
                lines, span = render_multi(lang, nm, value)
            else:
                lines, span = render(self.rng.choice(self.assign_templates(fb)), nm, value)
            fb.secret(f, value, lines, span)

    def assign_templates(self, fb):
        if fb.lang == "k8s":
            return K8S_ASSIGN[k8s_kind(fb.path)]
        return ASSIGN[fb.lang]

    def plant_decoy(self, fb, kind):
        gen, words, multi = DECOYS[kind]
        nm = names(self.rng.choice(words))
        lang = fb.lang
        if kind == "env_lookup":
            lines, span = render(self.rng.choice(ENV_LOOKUP[lang]), nm, "")
            fb.decoy(kind, lines, (0, len(lines) - 1))
            return
        value = gen(self.rng, self.keys)
        if multi:
            lines, span = render_multi(lang, nm, value)
        elif lang == "markdown" and kind == "ssh_public_key":
            lines, span = ["    " + value], (0, 0)
        else:
            lines, span = render(self.rng.choice(self.assign_templates(fb)), nm, value)
        fb.decoy(kind, lines, span)

    def choose_formats(self, lang, n):
        allowed = [f for f in self.format_names
                   if f not in ("aws_secret_access_key", "aws_session_token", "twilio_auth_token")]
        if lang in ("dockerfile",):
            allowed = [f for f in allowed if FORMATS[f][0] not in ("pem", "sajson")]
        return [self.rng.choice(allowed) for _ in range(n)]

    def choose_decoys(self, lang, n, test):
        kinds = [k for k in DECOYS if k != "fake_test_password"]
        if lang == "dockerfile":
            kinds = [k for k in kinds if not DECOYS[k][2]]
        out = [self.rng.choice(kinds) for _ in range(n)]
        if test:
            out += ["fake_test_password"] * self.rng.randint(1, 2)
        return out

    def build_file(self, kind, path):
        r = self.rng
        if kind == "pemfile":
            fb = FileBuilder(path, "pem")
            fmt = r.choice(["rsa_private_key", "pkcs8_private_key", "ec_private_key", "openssh_private_key"])
            if path.endswith(("id_rsa",)):
                fmt = "rsa_private_key"
            elif path.endswith("id_ed25519"):
                fmt = "openssh_private_key"
            elif path.endswith("id_ecdsa"):
                fmt = "ec_private_key"
            self.plant(fb, fmt)
            return fb
        if kind == "safile":
            fb = FileBuilder(path, "json")
            value = gcp_service_account(r, self.keys)
            lines = value.split("\n")
            fb.secret("gcp_service_account", value, lines, (0, len(lines) - 1))
            return fb
        if kind == "lockfile":
            return self.lockfile(path)
        if kind == "minified":
            return self.minified(path)
        lang = lang_for(kind, path)
        fb = FileBuilder(path, lang)
        fb.add(header(lang, self.w, path))
        n_secrets = r.choices([0, 1, 2, 3], weights=[30, 40, 20, 10])[0]
        n_decoys = r.choices([0, 1, 2, 3, 4], weights=[10, 30, 30, 20, 10])[0]
        items = [("s", f) for f in self.choose_formats(lang, n_secrets)]
        items += [("d", d) for d in self.choose_decoys(lang, n_decoys, kind == "test")]
        r.shuffle(items)
        for what, name in items:
            fb.add(filler(lang, self.w, r.randint(2, 14)))
            if COMMENT.get(lang) and r.random() < 0.3:
                fb.add([f"{COMMENT[lang]} {self.w.verb()} {self.w.noun()} settings"])
            if what == "s":
                self.plant(fb, name)
            else:
                self.plant_decoy(fb, name)
        fb.add(filler(lang, self.w, r.randint(2, 30)))
        fb.add(footer(lang))
        return fb

    def lockfile(self, path):
        r = self.rng
        name = os.path.basename(path)
        fb = FileBuilder(path, "lock")
        pkgs = ["lodash", "react", "express", "axios", "chalk", "debug", "semver", "yargs", "uuid", "minimist", "ms", "commander",
                "requests", "urllib3", "idna", "certifi", "golang.org/x/sys", "github.com/google/uuid", "gopkg.in/yaml.v3"]
        n = r.randint(20, 80)
        if name == "package-lock.json":
            fb.add(["{", '  "name": "app",', '  "lockfileVersion": 3,', '  "packages": {'])
            for i in range(n):
                p = r.choice(pkgs) + ("-" + self.w.noun() if i % 3 else "")
                integ = "sha512-" + base64.b64encode(bytes(r.randrange(256) for _ in range(64))).decode()
                fb.add([f'    "node_modules/{p}": {{', f'      "version": "{r.randrange(1, 9)}.{r.randrange(20)}.{r.randrange(20)}",',
                        f'      "resolved": "https://registry.npmjs.org/{p}/-/{p}-1.0.0.tgz",'])
                fb.decoy("lockfile_hash", [f'      "integrity": "{integ}"'], (0, 0))
                fb.add(["    },"])
            fb.add(["  }", "}"])
        elif name == "yarn.lock":
            for i in range(n):
                p = r.choice(pkgs)
                integ = "sha512-" + base64.b64encode(bytes(r.randrange(256) for _ in range(64))).decode()
                fb.add([f'"{p}@^{r.randrange(1, 9)}.0.0":', f'  version "{r.randrange(1, 9)}.{r.randrange(20)}.0"',
                        f'  resolved "https://registry.yarnpkg.com/{p}/-/{p}-1.0.0.tgz#{rs(r, HEX, 40)}"'])
                fb.decoys.append({"path": path, "line": len(fb.lines), "end_line": len(fb.lines), "kind": "lockfile_hash"})
                fb.decoy("lockfile_hash", [f"  integrity {integ}"], (0, 0))
                fb.add([""])
        elif name == "poetry.lock":
            for i in range(n):
                p = r.choice(pkgs)
                fb.add(["[[package]]", f'name = "{p}"', f'version = "{r.randrange(1, 9)}.{r.randrange(20)}.0"', "files = ["])
                for _ in range(2):
                    fb.decoy("lockfile_hash", [f'    {{file = "{p}-1.0.0.tar.gz", hash = "sha256:{rs(r, HEX, 64)}"}},'], (0, 0))
                fb.add(["]", ""])
        else:  # go.sum
            for i in range(n):
                p = r.choice(pkgs)
                v = f"v{r.randrange(0, 3)}.{r.randrange(20)}.{r.randrange(20)}"
                fb.decoy("lockfile_hash", [f"{p} {v} h1:{base64.b64encode(bytes(r.randrange(256) for _ in range(32))).decode()}"], (0, 0))
                fb.decoy("lockfile_hash", [f"{p} {v}/go.mod h1:{base64.b64encode(bytes(r.randrange(256) for _ in range(32))).decode()}"], (0, 0))
        return fb

    def minified(self, path):
        r = self.rng
        fb = FileBuilder(path, "minified")
        fb.add([f"/*! {self.w.adj()}-ui v{r.randrange(1, 5)}.{r.randrange(10)}.0 | MIT */"])
        for _ in range(r.randint(3, 12)):
            parts = []
            for _ in range(r.randint(20, 60)):
                a, b = rs(r, ALPHA, r.randint(1, 2)), rs(r, ALPHA + "$_", r.randint(1, 3))
                ident = rs(r, ALPHA, 1) + rs(r, ALNUM + "_$", r.randint(6, 28))
                choice = r.random()
                if choice < 0.3:
                    parts.append(f'function {a}({b},{a}{b}){{return {b}.{ident}||"{rs(r, ALNUM, r.randint(8, 32))}"}}')
                elif choice < 0.55:
                    parts.append(f'var {ident}="{rs(r, ALNUM + "_-", r.randint(16, 40))}";')
                elif choice < 0.75:
                    parts.append(f'{a}.exports={{{ident}:"{self.w.noun()}__{rs(r, ALNUM, 5)}",hash:"{rs(r, HEX, 20)}"}};')
                else:
                    parts.append(f'{b}[{r.randrange(999)}]=function({a}){{{a}.{ident}=!0}};')
            fb.decoy("minified_js", ["".join(parts)], (0, 0))
        return fb

    def generate(self, root, n_files):
        """Writes n_files under root; returns (labels, decoys, files)."""
        r = self.rng
        used = set()
        weights = [k[0] for k in FILE_KINDS]
        kinds = [k[1] for k in FILE_KINDS]
        labels, decoys, files = [], [], []
        projects = [f"{self.w.adj()}-{self.w.noun()}-{i:03d}" for i in range(max(1, n_files // 12))]
        for i in range(n_files):
            kind = r.choices(kinds, weights=weights)[0]
            proj = projects[i % len(projects)]
            path = pick_path(kind, self.w, proj, used)
            fb = self.build_file(kind, path)
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            data = fb.text()
            with open(full, "w", encoding="utf-8", newline="\n") as f:
                f.write(data)
            if kind == "pemfile":
                os.chmod(full, 0o600)
            labels.extend(fb.labels)
            decoys.extend(fb.decoys)
            files.append({"path": path, "kind": kind, "bytes": len(data.encode())})
        return labels, decoys, files


def generate_corpus(root, n_files, seed, labels_path=None):
    """Generates a labelled corpus at root (replacing it). Returns the labels document."""
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    g = Generator(seed)
    try:
        labels, decoys, files = g.generate(root, n_files)
    finally:
        g.close()
    doc = {
        "seed": seed, "files": len(files), "root": os.path.relpath(root, sc.REPO),
        "bytes": sum(f["bytes"] for f in files),
        "formats": sorted({lb["format"] for lb in labels}),
        "key_material": "openssl/ssh-keygen" if not g.keys.fallbacks else
        f"openssl/ssh-keygen, base64-shaped random bodies for {sorted(g.keys.fallbacks)}",
        "labels": labels, "decoys": decoys,
    }
    if labels_path:
        with open(labels_path, "w") as f:
            json.dump(doc, f, indent=1)
    return doc


# ============================================================================================
# Scoring


def score(findings, doc):
    """findings: [(path, line, rule, extra)] -> dict of counts and per-format / per-decoy figures."""
    spans = {}
    for i, lb in enumerate(doc["labels"]):
        for ln in range(lb["line"], lb["end_line"] + 1):
            spans.setdefault((lb["path"], ln), []).append(i)
    decoy_at = {}
    for d in doc["decoys"]:
        for ln in range(d["line"], d["end_line"] + 1):
            decoy_at.setdefault((d["path"], ln), d["kind"])
    hit = set()
    fp_lines = {}
    for path, line, rule, extra in findings:
        idx = spans.get((path, line))
        if idx:
            hit.update(idx)
        else:
            fp_lines.setdefault((path, line), []).append(rule)
    tp = len(hit)
    fn = len(doc["labels"]) - tp
    fp = len(fp_lines)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    per_format = {}
    for i, lb in enumerate(doc["labels"]):
        pf = per_format.setdefault(lb["format"], [0, 0])
        pf[1] += 1
        if i in hit:
            pf[0] += 1
    fp_by_decoy = {}
    fp_examples = []
    for (path, line), rules in sorted(fp_lines.items()):
        kind = decoy_at.get((path, line), "unlabelled line")
        fp_by_decoy[kind] = fp_by_decoy.get(kind, 0) + 1
        fp_examples.append({"path": path, "line": line, "rules": sorted(set(rules)), "decoy": kind})
    misses = [{"path": lb["path"], "line": lb["line"], "format": lb["format"]}
              for i, lb in enumerate(doc["labels"]) if i not in hit]
    return {"tp": tp, "fp": fp, "fn": fn, "precision": prec, "recall": rec, "f1": f1,
            "findings": len(findings), "per_format": per_format, "fp_by_decoy": fp_by_decoy,
            "fp_examples": fp_examples, "misses": misses}


# ============================================================================================
# Main


def run_tool(tool, root, label, timeout, git=False):
    """Runs tool on root; returns (status, run, findings or None, reason, invocation)."""
    if tool.problem:
        return "not run", None, None, tool.problem, None
    argv, stdout, cwd = tool.command(root, label, git=git)
    inv = sc.fmt_cmd(argv, cwd)
    sc.log(f"  {tool.name}: {inv}")
    status, r, rows, reason = _run_tool(tool, argv, stdout, cwd, root, label, timeout)
    return status, r, rows, reason, inv


def _run_tool(tool, argv, stdout, cwd, root, label, timeout):
    r = sc.run_measured(argv, stdout_path=stdout, cwd=cwd, env=tool.env(), timeout=timeout,
                        stderr_path=os.path.join(tool.work, f"{tool.name}-{label}.stderr"))
    if r.error:
        return "failed", r, None, r.error
    if r.timed_out:
        return "timeout", r, None, f"killed after {timeout:.0f} s (--timeout)"
    if r.code not in sc.OK_CODES[tool.name]:
        return "failed", r, None, f"exit code {r.code}: {r.stderr_tail[-400:]}"
    try:
        rows = tool.findings(label, root)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        return "failed", r, None, f"report unreadable: {e}"
    return "ok", r, rows, ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=2000, help="files in the corpus (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=20261201, help="generator seed (default: %(default)s)")
    ap.add_argument("--tools", default=",".join(sc.ALL_TOOLS), help="comma-separated tools to score (default: %(default)s)")
    ap.add_argument("--quick", action="store_true", help="smoke test: 300 files")
    ap.add_argument("--venv", default=None, help="reuse the peers' venv at this path (default: create or reuse "
                                                  "target/bench-scan/venv)")
    ap.add_argument("--unpinned", action="store_true", help="install the newest peers instead of the pinned versions")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds before a tool's run is killed (default: %(default)s)")
    ap.add_argument("--no-network-check", action="store_true",
                    help="skip the strace check that no peer attempts a network connection")
    args = ap.parse_args()
    if args.quick and args.files == ap.get_default("files"):
        args.files = 300
    tools_wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in tools_wanted if t not in sc.ALL_TOOLS]
    if unknown:
        sys.exit(f"error: unknown tools {unknown}; choose from {sc.ALL_TOOLS}")

    if "keyward" in tools_wanted:
        sc.require_keyward()
    os.makedirs(sc.BENCH_DIR, exist_ok=True)
    work = os.path.join(sc.BENCH_DIR, "accuracy-reports")
    os.makedirs(work, exist_ok=True)
    venv, problems = sc.setup_venv(args.venv or sc.DEFAULT_VENV, tools_wanted, unpinned=args.unpinned,
                                   reuse_only=bool(args.venv))
    tools = sc.make_tools(tools_wanted, venv, work, problems)

    root = os.path.join(sc.BENCH_DIR, "accuracy-corpus")
    labels_path = os.path.join(sc.BENCH_DIR, "accuracy-labels.json")
    sc.log(f"generating {args.files} files (seed {args.seed}) in {os.path.relpath(root, sc.REPO)}")
    doc = generate_corpus(root, args.files, args.seed, labels_path)
    sc.log(f"  {len(doc['labels'])} planted secrets in {len(doc['formats'])} formats, {len(doc['decoys'])} decoy lines, "
           f"{doc['bytes'] / 1e6:.1f} MB; key material: {doc['key_material']}; labels: {os.path.relpath(labels_path, sc.REPO)}")

    sc.log("\ntools:")
    for t in tools:
        sc.log(f"  {t.name:15} {t.version or '-'}" + (f"   NOT RUN: {t.problem}" if t.problem else ""))

    if not args.no_network_check:
        network_guard(tools, root)

    results = {}
    sc.log("\nscanning:")
    for t in tools:
        status, r, rows, reason, inv = run_tool(t, root, "accuracy", args.timeout)
        res = {"status": status, "version": t.version, "reason": reason, "invocation": inv,
               "threads": t.threads_note}
        if r and r.wall is not None:
            res["wall_s"] = round(r.wall, 3)
            res["peak_rss_mb"] = round(sc.mib(r.peak_rss), 1)
        if rows is not None:
            res.update(score(rows, doc))
            if t.name == "keyward":
                res["confidence"] = {}
                for _, _, _, extra in rows:
                    c = extra.get("confidence") or "?"
                    res["confidence"][c] = res["confidence"].get(c, 0) + 1
        else:
            sc.log(f"  {t.name}: {status.upper()}: {reason}")
        results[t.name] = res
    report(results, doc, tools)
    out = {"machine": sc.machine_info(), "corpus": {k: v for k, v in doc.items() if k not in ("labels", "decoys")},
           "labels_file": os.path.relpath(labels_path, sc.REPO), "results": results,
           "scoring": "TP: a finding on any line of a label's span, once per label; FP: a finding on an unlabelled line, "
                      "once per (path, line); FN: a label with no finding"}
    with open(os.path.join(sc.BENCH_DIR, "accuracy.json"), "w") as f:
        json.dump(out, f, indent=1)
    sc.log(f"\nwrote {os.path.relpath(os.path.join(sc.BENCH_DIR, 'accuracy.json'), sc.REPO)}")


def network_guard(tools, root):
    """Runs each peer once under strace on a few corpus files and reports connect() attempts."""
    import shutil as _sh
    if not _sh.which("strace"):
        sc.log("\nnetwork check: strace not installed (apt-get install strace); relying on the flags that disable "
               "validation and update checks")
        return
    small = os.path.join(sc.BENCH_DIR, "netcheck-corpus")
    if os.path.exists(small):
        _sh.rmtree(small)
    generate_corpus(small, 40, 7)
    sc.log("\nnetwork check (each peer under strace -f -e trace=connect on a 40-file corpus):")
    for t in tools:
        if t.problem or t.name == "keyward":
            continue
        argv, stdout, cwd = t.command(small, "netcheck")
        bad, r = sc.network_check(argv, cwd=cwd, env=t.env(), stdout_path=stdout, timeout=300)
        if r is None:
            continue
        if r.timed_out:
            sc.log(f"  {t.name}: killed after 300 s under strace; treat its figures with care")
        elif bad:
            sc.log(f"  {t.name}: {len(bad)} network connect() attempt(s), e.g. {bad[0][:160]}")
        else:
            sc.log(f"  {t.name}: no network connections attempted")


def report(results, doc, tools):
    names_ = [t.name for t in tools]
    rows = []
    for n in names_:
        x = results[n]
        if "tp" in x:
            rows.append([n, x["findings"], x["tp"], x["fp"], x["fn"], f"{x['precision']:.3f}", f"{x['recall']:.3f}",
                         f"{x['f1']:.3f}", f"{x.get('wall_s', 0):.1f}"])
        else:
            rows.append([n, "-", "-", "-", "-", "-", "-", "-", x["status"]])
    sc.log(f"\nAccuracy on {doc['files']} files, {len(doc['labels'])} labelled secrets ({len(doc['formats'])} formats), "
           f"{len(doc['decoys'])} decoy lines")
    sc.log(sc.table(["tool", "findings", "TP", "FP", "FN", "precision", "recall", "F1", "wall s"], rows))
    scored = [n for n in names_ if "tp" in results[n]]
    if not scored:
        return
    # Recall per format, every scored tool side by side (Keyward first).
    fmts = sorted({lb["format"] for lb in doc["labels"]})
    rows = []
    for f in fmts:
        total = results[scored[0]]["per_format"][f][1]
        rows.append([f, total] + [f"{results[n]['per_format'][f][0] / total:.2f}" for n in scored])
    sc.log("\nRecall per format")
    sc.log(sc.table(["format", "labels"] + scored, rows))
    kinds = sorted(set(list(DECOYS) + ["minified_js", "lockfile_hash", "unlabelled line"]))
    total_decoys = {}
    for d in doc["decoys"]:
        total_decoys[d["kind"]] = total_decoys.get(d["kind"], 0) + 1
    rows = [[k, total_decoys.get(k, "-")] + [results[n]["fp_by_decoy"].get(k, 0) for n in scored] for k in kinds]
    sc.log("\nFalse positives per decoy kind (lines reported)")
    sc.log(sc.table(["decoy", "lines"] + scored, rows))
    if "keyward" in scored:
        kw = results["keyward"]
        by_rule = {}
        for e in kw["fp_examples"]:
            for rule in e["rules"]:
                key = (rule, e["decoy"])
                by_rule[key] = by_rule.get(key, 0) + 1
        if by_rule:
            sc.log("\nKeyward false positives by rule and decoy kind")
            sc.log(sc.table(["rule_id", "decoy", "lines"], [[a, b, c] for (a, b), c in sorted(by_rule.items(), key=lambda x: -x[1])]))
        if kw.get("confidence"):
            sc.log("Keyward findings by confidence: " + ", ".join(f"{k} {v}" for k, v in sorted(kw["confidence"].items())))


if __name__ == "__main__":
    main()
