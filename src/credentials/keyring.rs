//! The `keyring` source and the OS keyrings behind it (keyring-core and one
//! store crate per platform): the Secret Service over D-Bus and the kernel's
//! keyutils on Linux, the Keychain on macOS, the Credential Manager on
//! Windows.
//!
//! `PGCONN_KEYRING` chooses: `auto` (default), `secret-service`, `keyutils`,
//! `none` (never touch a keyring). On Linux `auto` reads keyutils first (a
//! system call) and then the Secret Service; `pgconn login` writes to the
//! Secret Service when one answers (it persists), else to keyutils (kept
//! until reboot). D-Bus calls run on their own thread with a bound, so a
//! headless box or a Secret Service that never answers gives a message, not
//! a hang.

use std::sync::Arc;
use std::time::Duration;

use keyring_core::{CredentialStore, Entry};

use super::runtime::bounded;
use super::{Found, Outcome, Secret, Source};
use crate::target::Target;

/// The default keyring service of the contract.
pub const DEFAULT_SERVICE: &str = "pgconn";

/// How long answers read over D-Bus are kept in the (keyutils) cache.
const SECRET_SERVICE_CACHE_TTL: Duration = Duration::from_secs(8 * 3600);

/// Bound on one D-Bus round trip.
const DBUS_TIMEOUT: Duration = Duration::from_secs(3);

/// The default account of the contract: `<cluster>/<user>`.
pub fn default_account(cluster: &str, user: &str) -> String {
    format!("{cluster}/{user}")
}

/// `PGCONN_KEYRING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The platform's keyrings, cheapest first.
    Auto,
    /// Only the D-Bus Secret Service.
    SecretService,
    /// Only the kernel keyring.
    Keyutils,
    /// No keyring at all (and no cache).
    None,
}

impl Choice {
    /// Reads `PGCONN_KEYRING`; unset or empty is `auto`.
    pub fn from_env() -> Result<Choice, String> {
        let value = std::env::var("PGCONN_KEYRING").unwrap_or_default();
        match value.trim() {
            "" | "auto" => Ok(Choice::Auto),
            "secret-service" => Ok(Choice::SecretService),
            "keyutils" => Ok(Choice::Keyutils),
            "none" => Ok(Choice::None),
            other => Err(format!(
                "PGCONN_KEYRING={other} is not one of auto, secret-service, keyutils, none"
            )),
        }
    }
}

/// One keyring store.
#[derive(Clone)]
pub struct Store {
    name: &'static str,
    inner: Arc<CredentialStore>,
    /// Calls may block on another process (D-Bus): run them bounded.
    remote: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

fn describe(e: &keyring_core::Error) -> String {
    use keyring_core::Error as E;
    match e {
        E::NoEntry => "no such entry".into(),
        E::NoStorageAccess(inner) => format!("the keyring refused access (locked?): {inner}"),
        E::PlatformFailure(inner) => format!("keyring failure: {inner}"),
        // these two carry the stored bytes: never shown
        E::BadEncoding(_) | E::BadDataFormat(..) => "the stored value is not valid text".into(),
        E::Ambiguous(v) => format!("{} entries match", v.len()),
        E::NoDefaultStore => "no keyring store".into(),
        other => other.to_string(),
    }
}

impl Store {
    /// Wraps a keyring-core store (the mock store in tests).
    pub fn from_core(name: &'static str, inner: Arc<CredentialStore>) -> Self {
        Store {
            name,
            inner,
            remote: false,
        }
    }

    /// Its name as shown to users.
    pub fn name(&self) -> &'static str {
        self.name
    }

    fn call<T: Send + 'static>(
        &self,
        what: &str,
        service: &str,
        account: &str,
        op: impl FnOnce(&Entry) -> Result<T, keyring_core::Error> + Send + 'static,
    ) -> Result<T, keyring_core::Error> {
        let inner = self.inner.clone();
        let (service, account) = (service.to_string(), account.to_string());
        let run = move || {
            let entry = Entry::new_in_store(&inner, &service, &account)?;
            op(&entry)
        };
        if self.remote {
            match bounded(&format!("{} {what}", self.name), DBUS_TIMEOUT, run) {
                Ok(r) => r,
                Err(msg) => Err(keyring_core::Error::PlatformFailure(msg.into())),
            }
        } else {
            run()
        }
    }

    /// The value stored for `service`/`account`, if any.
    pub fn get(&self, service: &str, account: &str) -> Result<Option<Secret>, String> {
        match self.call("read", service, account, keyring_core::Entry::get_password) {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(describe(&e)),
        }
    }

    /// Stores `value` for `service`/`account`.
    pub fn set(&self, service: &str, account: &str, value: &Secret) -> Result<(), String> {
        let value = value.clone();
        self.call("write", service, account, move |e| {
            e.set_password(value.expose())
        })
        .map_err(|e| describe(&e))
    }

    /// Removes the entry; whether there was one.
    pub fn delete(&self, service: &str, account: &str) -> Result<bool, String> {
        match self.call(
            "delete",
            service,
            account,
            keyring_core::Entry::delete_credential,
        ) {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(describe(&e)),
        }
    }
}

/// The kernel keyring (Linux).
#[cfg(target_os = "linux")]
pub fn keyutils() -> Result<Store, String> {
    let store = linux_keyutils_keyring_store::Store::new()
        .map_err(|e| format!("kernel keyring unavailable: {}", describe(&e)))?;
    Ok(Store {
        name: "keyutils",
        inner: store,
        remote: false,
    })
}

/// Whether a D-Bus session bus can be reached at all (no D-Bus traffic).
#[cfg(target_os = "linux")]
fn session_bus_present() -> bool {
    use std::os::unix::fs::MetadataExt;
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty()) {
        return true;
    }
    let uid = std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid());
    std::path::Path::new(&format!("/run/user/{uid}/bus")).exists()
}

/// The D-Bus Secret Service (Linux): gnome-keyring, `KWallet`, `KeePassXC`.
#[cfg(target_os = "linux")]
pub fn secret_service() -> Result<Store, String> {
    if !session_bus_present() {
        return Err(
            "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset): no Secret Service on this box"
                .into(),
        );
    }
    let store = bounded("connecting to the Secret Service", DBUS_TIMEOUT, || {
        zbus_secret_service_keyring_store::Store::new()
    })?
    .map_err(|e| format!("no Secret Service on the session bus: {}", describe(&e)))?;
    Ok(Store {
        name: "secret-service",
        inner: store,
        remote: true,
    })
}

/// The platform store (macOS Keychain, Windows Credential Manager).
#[cfg(target_os = "macos")]
fn platform() -> Result<Store, String> {
    let store = apple_native_keyring_store::keychain::Store::new()
        .map_err(|e| format!("Keychain unavailable: {}", describe(&e)))?;
    Ok(Store {
        name: "keychain",
        inner: store,
        remote: false,
    })
}

/// The platform store (macOS Keychain, Windows Credential Manager).
#[cfg(windows)]
fn platform() -> Result<Store, String> {
    let store = windows_native_keyring_store::Store::new()
        .map_err(|e| format!("Credential Manager unavailable: {}", describe(&e)))?;
    Ok(Store {
        name: "credential-manager",
        inner: store,
        remote: false,
    })
}

/// The stores to read for `choice`, cheapest first, with a note for each
/// one that is not available.
pub fn read_stores(choice: Choice) -> (Vec<Store>, Vec<String>) {
    let mut stores = Vec::new();
    let mut notes = Vec::new();
    let mut add = |r: Result<Store, String>| match r {
        Ok(s) => stores.push(s),
        Err(e) => notes.push(e),
    };
    match choice {
        Choice::None => {}
        #[cfg(target_os = "linux")]
        Choice::Auto => {
            add(keyutils());
            add(secret_service());
        }
        #[cfg(target_os = "linux")]
        Choice::SecretService => add(secret_service()),
        #[cfg(target_os = "linux")]
        Choice::Keyutils => add(keyutils()),
        #[cfg(any(target_os = "macos", windows))]
        Choice::Auto => add(platform()),
        #[cfg(not(target_os = "linux"))]
        Choice::SecretService | Choice::Keyutils => {
            add(Err("this keyring exists only on Linux".into()));
        }
        #[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
        Choice::Auto => add(Err("no keyring on this platform".into())),
    }
    (stores, notes)
}

/// The store `pgconn login` writes to, and a note when it is not the
/// persistent one.
pub fn login_store(choice: Choice) -> Result<(Store, Option<String>), String> {
    match choice {
        Choice::None => Err("PGCONN_KEYRING=none: no keyring to store the password in".into()),
        #[cfg(target_os = "linux")]
        Choice::Auto => match secret_service() {
            Ok(s) => Ok((s, None)),
            Err(why) => keyutils().map(|s| {
                (
                    s,
                    Some(format!(
                        "{why}; kept in the kernel keyring instead, until reboot"
                    )),
                )
            }),
        },
        #[cfg(target_os = "linux")]
        Choice::SecretService => secret_service().map(|s| (s, None)),
        #[cfg(target_os = "linux")]
        Choice::Keyutils => {
            keyutils().map(|s| (s, Some("kept in the kernel keyring, until reboot".into())))
        }
        #[allow(unreachable_patterns)]
        other => read_stores(other)
            .0
            .into_iter()
            .next()
            .map(|s| (s, None))
            .ok_or_else(|| "no keyring on this platform".to_string()),
    }
}

/// The store the cache lives in: keyutils on Linux in `auto` (no D-Bus round
/// trip), the chosen store otherwise; none with `PGCONN_KEYRING=none`.
pub fn cache_store(choice: Choice) -> Option<Store> {
    match choice {
        Choice::None => None,
        #[cfg(target_os = "linux")]
        Choice::Auto | Choice::Keyutils => keyutils().ok(),
        #[cfg(target_os = "linux")]
        Choice::SecretService => secret_service().ok(),
        #[allow(unreachable_patterns)]
        other => read_stores(other).0.into_iter().next(),
    }
}

/// The first line of a value `pgconn login` wrote: the password is bound
/// to the endpoints it was stored for.
const BOUND_MAGIC: &str = "pgconn-bound-v1\n";

/// A keyring value as `pgconn login` writes it: the endpoints (host, port)
/// of the cluster at login time, then the password. Another host or port
/// never receives it, whatever a later catalog says.
pub fn bind(endpoints: &[(String, u16)], password: &Secret) -> Secret {
    let list = serde_json::to_string(endpoints).unwrap_or_else(|_| "[]".into());
    Secret::new(format!("{BOUND_MAGIC}{list}\n{}", password.expose()))
}

/// What a keyring value says.
enum Stored {
    /// A plain password (an entry the user made, e.g. with `secret-tool`).
    Plain(Secret),
    /// A password bound to these endpoints.
    Bound(Vec<(String, u16)>, Secret),
}

fn unbind(value: &Secret) -> Stored {
    let parsed = value.expose().strip_prefix(BOUND_MAGIC).and_then(|rest| {
        let (list, password) = rest.split_once('\n')?;
        let endpoints: Vec<(String, u16)> = serde_json::from_str(list).ok()?;
        Some(Stored::Bound(endpoints, Secret::new(password)))
    });
    parsed.unwrap_or_else(|| Stored::Plain(Secret::new(value.expose())))
}

/// Reads a password from the OS keyring.
#[derive(Debug)]
pub struct KeyringSource {
    service: String,
    account: String,
    /// The endpoint the password would be sent to.
    endpoint: (String, u16),
}

impl KeyringSource {
    /// The entry `service`/`account`, defaulting to `pgconn` and `<cluster>/<user>`.
    pub fn new(service: Option<String>, account: Option<String>, target: &Target<'_>) -> Self {
        KeyringSource {
            service: service.unwrap_or_else(|| DEFAULT_SERVICE.to_string()),
            account: account.unwrap_or_else(|| default_account(&target.cluster.name, &target.user)),
            endpoint: (target.endpoint.host.clone(), target.endpoint.port),
        }
    }

    /// The password of a stored value, unless it is bound to other endpoints.
    fn usable(&self, value: &Secret) -> Result<Secret, String> {
        match unbind(value) {
            Stored::Plain(password) => Ok(password),
            Stored::Bound(endpoints, password) if endpoints.contains(&self.endpoint) => {
                Ok(password)
            }
            Stored::Bound(endpoints, _) => {
                let stored: Vec<String> =
                    endpoints.iter().map(|(h, p)| format!("{h}:{p}")).collect();
                Err(format!(
                    "the stored password was stored for {}, not for {}:{}; it is not sent to another \
                     host or port (`pgconn login` stores it anew for this catalog)",
                    stored.join(", "),
                    self.endpoint.0,
                    self.endpoint.1
                ))
            }
        }
    }
}

impl Source for KeyringSource {
    fn label(&self) -> String {
        format!("keyring {} {}", self.service, self.account)
    }

    fn cached(&self) -> bool {
        // In `auto`, reading the Secret Service is a D-Bus round trip that
        // the (keyutils) cache saves; otherwise the cache would be the same store.
        matches!(Choice::from_env(), Ok(Choice::Auto)) && cfg!(target_os = "linux")
    }

    fn fetch(&self) -> Outcome {
        let choice = match Choice::from_env() {
            Ok(Choice::None) => return Outcome::Skipped("PGCONN_KEYRING=none".into()),
            Ok(c) => c,
            Err(e) => return Outcome::Failed(e),
        };
        let (stores, mut notes) = read_stores(choice);
        let mut failed = false;
        for store in &stores {
            match store.get(&self.service, &self.account) {
                Ok(Some(value)) => {
                    let password = match self.usable(&value) {
                        Ok(password) => password,
                        Err(e) => return Outcome::Failed(e),
                    };
                    let mut found = Found::password(password);
                    found.via = Some(format!("{} ({})", self.label(), store.name()));
                    if store.remote {
                        found.ttl = Some(SECRET_SERVICE_CACHE_TTL);
                    }
                    return Outcome::Found(found);
                }
                Ok(None) => notes.push(format!("no entry in {}", store.name())),
                Err(e) => {
                    failed = true;
                    notes.push(format!("{}: {e}", store.name()));
                }
            }
        }
        let explicit = choice != Choice::Auto;
        let reason = if notes.is_empty() {
            "no keyring".to_string()
        } else {
            notes.join("; ")
        };
        if failed || (explicit && stores.is_empty()) {
            Outcome::Failed(reason)
        } else {
            Outcome::Skipped(format!("{reason} (`pgconn login` stores one)"))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bound_values_unbind_only_for_their_endpoints() {
        let pw = Secret::new("p\nw:1");
        let value = bind(
            &[("a.example".into(), 5432), ("b.example".into(), 5433)],
            &pw,
        );
        assert!(!format!("{value:?}").contains("p\nw"));
        match unbind(&value) {
            Stored::Bound(endpoints, password) => {
                assert_eq!(endpoints.len(), 2);
                assert_eq!(password.expose(), "p\nw:1");
            }
            Stored::Plain(_) => panic!("a bound value reads as bound"),
        }
        assert!(matches!(unbind(&Secret::new("plain")), Stored::Plain(p) if p.expose() == "plain"));
    }

    use super::*;

    #[test]
    fn mock_store_round_trip() {
        let store = Store::from_core("mock", keyring_core::mock::Store::new().unwrap());
        assert_eq!(store.get("pgconn", "a/b").unwrap(), None);
        store.set("pgconn", "a/b", &Secret::new("pw")).unwrap();
        assert_eq!(store.get("pgconn", "a/b").unwrap().unwrap().expose(), "pw");
        assert!(store.delete("pgconn", "a/b").unwrap());
        assert!(!store.delete("pgconn", "a/b").unwrap());
    }

    #[test]
    fn debug_of_a_store_is_its_name() {
        let store = Store::from_core("mock", keyring_core::mock::Store::new().unwrap());
        assert_eq!(format!("{store:?}"), "mock");
    }
}
