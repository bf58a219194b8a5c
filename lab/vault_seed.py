#!/usr/bin/python3
"""Seed the lab's OpenBao (dev mode, Vault HTTP API) for the credential tests.

  vault_seed.py ADDR ROOT_TOKEN LAB_DIR CA_CERT

- KV v1 at kv1/ and KV v2 at kv2/: <cluster>/<user> = {username, password} for every lab user
- policy pgconn-read (read kv1, kv2, database/creds; renew and revoke leases)
- AppRole `pgconn` with that policy: LAB_DIR/vault/role-id, LAB_DIR/vault/secret-id
- LAB_DIR/vault/limited-token: a token with only the default policy (403 on the secrets)
- the database engine at database/ against temporal-db's admin endpoint (as
  platform_admin, verify-full), role `temporal-app` (1 h) and `temporal-short` (20 s)
  creating LOGIN roles that are members of temporal (its tables) and of
  pgconn_test_users (pg_hba lets them in over TLS)
Only the standard library.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

USERS = {
    "temporal-db": ["temporal", "temporal_ro", "platform_admin"],
    "platform-db": ["platform", "platform_ro", "platform_admin"],
}


def main(addr, token, lab_dir, ca_cert):
    def call(method, path, body=None, ok=(200, 204)):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(addr + "/v1/" + path, data=data, method=method)
        req.add_header("X-Vault-Token", token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                text = resp.read().decode()
                return json.loads(text) if text.strip() else None
        except urllib.error.HTTPError as e:
            raise SystemExit("vault_seed: %s %s: %s %s" % (method, path, e.code, e.read().decode()[:500]))

    deadline = time.time() + 15
    while True:
        try:
            with urllib.request.urlopen(addr + "/v1/sys/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except Exception:  # noqa: BLE001 - still starting
            pass
        if time.time() > deadline:
            raise SystemExit("vault_seed: OpenBao at %s is not ready after 15 s" % addr)
        time.sleep(0.1)

    def pw(cluster, user):
        with open(os.path.join(lab_dir, "secrets", cluster, user)) as f:
            return f.read()

    call("POST", "sys/mounts/kv1", {"type": "kv", "options": {"version": "1"}})
    call("POST", "sys/mounts/kv2", {"type": "kv", "options": {"version": "2"}})
    for cluster, users in USERS.items():
        for user in users:
            data = {"username": user, "password": pw(cluster, user)}
            call("POST", "kv1/%s/%s" % (cluster, user), data)
            call("POST", "kv2/data/%s/%s" % (cluster, user), {"data": data})
    call("POST", "kv1/lab/other-field", {"secret": "x"})

    policy = """
path "kv1/*" { capabilities = ["read"] }
path "kv2/data/*" { capabilities = ["read"] }
path "database/creds/*" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/revoke" { capabilities = ["update"] }
"""
    call("PUT", "sys/policies/acl/pgconn-read", {"policy": policy})
    call("POST", "sys/auth/approle", {"type": "approle"})
    call("POST", "auth/approle/role/pgconn", {"token_policies": ["pgconn-read"], "token_ttl": "1h"})
    role_id = call("GET", "auth/approle/role/pgconn/role-id")["data"]["role_id"]
    secret_id = call("POST", "auth/approle/role/pgconn/secret-id", {})["data"]["secret_id"]
    limited = call("POST", "auth/token/create", {"policies": ["default"], "ttl": "24h"})["auth"]["client_token"]
    vdir = os.path.join(lab_dir, "vault")
    os.makedirs(vdir, exist_ok=True)
    for name, value in (("role-id", role_id), ("secret-id", secret_id), ("limited-token", limited)):
        fd = os.open(os.path.join(vdir, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)

    call("POST", "sys/mounts/database", {"type": "database"})
    url = (
        "postgresql://{{username}}:{{password}}@temporal-db-admin.lab.pgconn.test:5432/temporal"
        "?sslmode=verify-full&sslrootcert=" + ca_cert
    )
    call(
        "POST",
        "database/config/temporal-db",
        {
            "plugin_name": "postgresql-database-plugin",
            "connection_url": url,
            "username": "platform_admin",
            "password": pw("temporal-db", "platform_admin"),
            "allowed_roles": "*",
            "verify_connection": True,
        },
    )
    create = [
        "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' "
        "IN ROLE temporal, pgconn_test_users;"
    ]
    for role, ttl in (("temporal-app", "1h"), ("temporal-short", "20s")):
        call(
            "POST",
            "database/roles/" + role,
            {"db_name": "temporal-db", "creation_statements": create, "default_ttl": ttl, "max_ttl": "24h"},
        )
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
