//! The credential cache: answers of network sources (Kubernetes, Vault,
//! commands, the Secret Service) kept in a keyring, so repeated `url`, `env`
//! and `psql` answer without the network.
//!
//! One keyring entry per cluster, user and source: service `pgconn-cache`,
//! account `<cluster>/<user>/<hash of the source label>` (a changed source
//! in the catalog is a different entry), value a small JSON document. Static
//! secrets live for a TTL (8 h, `PGCONN_CACHE_TTL` seconds to change it);
//! dynamic credentials until shortly before their lease ends, renewed when
//! used after half of it. With `PGCONN_KEYRING=none` there is no cache.
//! On Linux the cache is the kernel keyring (a system call, no D-Bus).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::keyring::{self, Choice, Store};
use super::{Credential, Lease, Secret, Source, now};
use crate::target::Target;

/// The keyring service of cache entries.
pub const SERVICE: &str = "pgconn-cache";

/// One cached answer.
#[derive(Serialize, Deserialize)]
pub struct Entry {
    /// Format version.
    pub v: u8,
    /// The PostgreSQL user.
    pub user: String,
    password: String,
    /// Where the answer came from, as shown to users.
    pub source: String,
    /// When the entry stops being used (Unix seconds).
    pub expires_at: u64,
    /// The lease of dynamic credentials.
    pub lease: Option<Lease>,
    /// `host:port` of the cluster's endpoints when it was fetched: it is
    /// never handed to any other (a catalog that moved an endpoint).
    pub endpoints: Vec<String>,
}

/// The format version of entries; others are ignored (and refetched).
const VERSION: u8 = 3;

fn endpoint_of(target: &Target<'_>) -> String {
    format!("{}:{}", target.endpoint.host, target.endpoint.port)
}

fn endpoints_of(target: &Target<'_>) -> Vec<String> {
    (target.cluster.endpoints.iter())
        .map(|e| format!("{}:{}", e.host, e.port))
        .collect()
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("v", &self.v)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("source", &self.source)
            .field("expires_at", &self.expires_at)
            .field("lease", &self.lease)
            .field("endpoints", &self.endpoints)
            .finish()
    }
}

/// The cache in one keyring store.
#[derive(Debug)]
pub struct Cache {
    store: Store,
}

/// FNV-1a, 64 bit: a stable short name for a source label.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn account(target: &Target<'_>, label: &str) -> String {
    format!(
        "{}/{}/{:016x}",
        target.cluster.name,
        target.user,
        fnv1a(label)
    )
}

/// The TTL for static secrets: `PGCONN_CACHE_TTL` seconds when set.
fn static_ttl(default: Duration) -> Duration {
    std::env::var("PGCONN_CACHE_TTL")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(default, Duration::from_secs)
}

impl Cache {
    /// The cache `PGCONN_KEYRING` allows, if any.
    pub fn open() -> Option<Cache> {
        let choice = Choice::from_env().ok()?;
        keyring::cache_store(choice).map(|store| Cache { store })
    }

    /// Every store a cache entry may be in under `PGCONN_KEYRING` (for
    /// `logout` and invalidation: a run with another setting may have
    /// written elsewhere).
    pub fn open_all() -> Vec<Cache> {
        let Ok(choice) = Choice::from_env() else {
            return Vec::new();
        };
        keyring::read_stores(choice)
            .0
            .into_iter()
            .map(|store| Cache { store })
            .collect()
    }

    /// A cache in a given store (tests use the mock store).
    pub fn with_store(store: Store) -> Cache {
        Cache { store }
    }

    /// The store's name.
    pub fn store_name(&self) -> &'static str {
        self.store.name()
    }

    /// The entry for a target and source label, whatever its age.
    pub fn get(&self, target: &Target<'_>, label: &str) -> Option<Entry> {
        let raw = self.store.get(SERVICE, &account(target, label)).ok()??;
        let entry: Entry = serde_json::from_str(raw.expose()).ok()?;
        (entry.v == VERSION).then_some(entry)
    }

    fn write(&self, target: &Target<'_>, label: &str, entry: &Entry) {
        if let Ok(json) = serde_json::to_string(entry) {
            let _ = self
                .store
                .set(SERVICE, &account(target, label), &Secret::new(json));
        }
    }

    /// Keeps `credential` for `ttl` (or its lease).
    pub fn put(&self, target: &Target<'_>, label: &str, credential: &Credential, ttl: Duration) {
        let expires_at = match &credential.lease {
            Some(lease) => lease.expires_at(),
            None => now().saturating_add(static_ttl(ttl).as_secs()),
        };
        let entry = Entry {
            v: VERSION,
            user: credential.user.clone(),
            password: credential.password.expose().to_string(),
            source: credential.source.clone(),
            expires_at,
            lease: credential.lease.clone(),
            endpoints: endpoints_of(target),
        };
        self.write(target, label, &entry);
    }

    /// Drops the entry.
    pub fn remove(&self, target: &Target<'_>, label: &str) {
        let _ = self.store.delete(SERVICE, &account(target, label));
    }

    /// A usable cached answer for the source: fresh enough, its lease renewed
    /// when half of it has passed; `None` (and the entry dropped) otherwise.
    pub fn answer(
        &self,
        target: &Target<'_>,
        label: &str,
        source: &dyn Source,
    ) -> Option<Credential> {
        let mut entry = self.get(target, label)?;
        if !entry.endpoints.contains(&endpoint_of(target)) {
            // fetched for another host or port (the catalog moved the endpoint)
            self.remove(target, label);
            return None;
        }
        let now = now();
        if let Some(lease) = entry.lease.clone() {
            if !lease.usable_at(now) {
                self.remove(target, label);
                return None;
            }
            if lease.wants_renewal_at(now) {
                if let Ok(renewed) = source.renew(&lease) {
                    entry.expires_at = renewed.expires_at();
                    entry.lease = Some(renewed);
                    self.write(target, label, &entry);
                } else {
                    self.remove(target, label);
                    return None;
                }
            }
        } else if now >= entry.expires_at {
            self.remove(target, label);
            return None;
        }
        Some(Credential {
            user: entry.user.clone(),
            password: Secret::new(std::mem::take(&mut entry.password)),
            source: entry.source.clone(),
            lease: entry.lease.clone(),
            cached: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{
        Cluster, Endpoint, PoolMode, Pooler, PoolerKind, Role, RootCert, SslMode,
    };
    use crate::credentials::{Found, Outcome};
    use std::cell::Cell;

    fn cluster() -> Cluster {
        Cluster {
            name: "c".into(),
            namespace: None,
            port: 5432,
            database: None,
            pooler: Pooler {
                kind: PoolerKind::None,
                mode: PoolMode::Session,
                max_prepared_statements: 0,
            },
            endpoints: vec![Endpoint {
                role: Role::Write,
                host: "h".into(),
                port: 5432,
                ip: None,
                pooled: false,
                sslmode: SslMode::VerifyFull,
                sslrootcert: RootCert::System,
                allowed_source_ranges: None,
                service: None,
            }],
            users: vec![],
            pos: crate::catalog::Pos::default(),
        }
    }

    /// User `u` on the cluster's only endpoint.
    fn target(c: &Cluster) -> Target<'_> {
        Target {
            cluster: c,
            endpoint: &c.endpoints[0],
            user: "u".into(),
            database: None,
            sources: None,
        }
    }

    struct Leasing {
        renewals: Cell<u32>,
        fail: bool,
    }

    impl Source for Leasing {
        fn label(&self) -> String {
            "leasing".into()
        }
        fn fetch(&self) -> Outcome {
            Outcome::Found(Found::password(Secret::new("x")))
        }
        fn renew(&self, lease: &Lease) -> Result<Lease, String> {
            self.renewals.set(self.renewals.get() + 1);
            if self.fail {
                return Err("gone".into());
            }
            Ok(Lease {
                renewed_at: now(),
                ..lease.clone()
            })
        }
    }

    impl Leasing {
        /// A source whose renewals succeed.
        fn renewing() -> Self {
            Leasing {
                renewals: Cell::new(0),
                fail: false,
            }
        }
    }

    /// User `u`'s password "pw", without a lease.
    fn static_credential() -> Credential {
        Credential {
            user: "u".into(),
            password: Secret::new("pw"),
            source: "leasing".into(),
            lease: None,
            cached: false,
        }
    }

    fn cache() -> Cache {
        Cache::with_store(Store::from_core(
            "mock",
            keyring_core::mock::Store::new().unwrap(),
        ))
    }

    #[test]
    fn an_answer_is_never_handed_to_a_moved_endpoint() {
        let c = cluster();
        let cache = cache();
        let source = Leasing::renewing();
        let cred = static_credential();
        cache.put(&target(&c), "leasing", &cred, Duration::from_secs(60));
        let mut moved = c.clone();
        moved.endpoints[0].host = "evil.example".into();
        assert!(cache.answer(&target(&moved), "leasing", &source).is_none());
        assert!(
            cache.get(&target(&c), "leasing").is_none(),
            "the entry is dropped, not kept for later"
        );
        cache.put(&target(&c), "leasing", &cred, Duration::from_secs(60));
        let mut other_port = c.clone();
        other_port.endpoints[0].port = 6543;
        assert!(
            cache
                .answer(&target(&other_port), "leasing", &source)
                .is_none()
        );
    }

    #[test]
    fn static_entries_expire() {
        let c = cluster();
        let target = target(&c);
        let cache = cache();
        let source = Leasing::renewing();
        let cred = static_credential();
        cache.put(&target, "leasing", &cred, Duration::from_secs(60));
        let hit = cache.answer(&target, "leasing", &source).unwrap();
        assert!(hit.cached);
        assert_eq!(hit.password.expose(), "pw");
        assert!(!format!("{:?}", cache.get(&target, "leasing")).contains("pw\""));
        cache.put(&target, "leasing", &cred, Duration::ZERO);
        assert!(cache.answer(&target, "leasing", &source).is_none());
        assert!(
            cache.get(&target, "leasing").is_none(),
            "expired entries are dropped"
        );
    }

    #[test]
    fn leases_are_renewed_after_half_and_dropped_when_renewal_fails() {
        let c = cluster();
        let target = target(&c);
        let cache = cache();
        let old = Lease {
            id: "database/creds/r/1".into(),
            duration: 3600,
            renewable: true,
            renewed_at: now() - 2000,
        };
        let cred = Credential {
            user: "v-dyn".into(),
            password: Secret::new("pw"),
            source: "leasing".into(),
            lease: Some(old.clone()),
            cached: false,
        };
        let ok = Leasing {
            renewals: Cell::new(0),
            fail: false,
        };
        cache.put(&target, "leasing", &cred, Duration::from_secs(1));
        let hit = cache.answer(&target, "leasing", &ok).unwrap();
        assert_eq!(hit.user, "v-dyn");
        assert_eq!(ok.renewals.get(), 1);
        // renewed just now: the next use does not renew again
        assert!(cache.answer(&target, "leasing", &ok).is_some());
        assert_eq!(ok.renewals.get(), 1);

        let failing = Leasing {
            renewals: Cell::new(0),
            fail: true,
        };
        cache.put(&target, "leasing", &cred, Duration::from_secs(1));
        assert!(cache.answer(&target, "leasing", &failing).is_none());
        assert!(cache.get(&target, "leasing").is_none());

        let ending = Credential {
            lease: Some(Lease {
                renewed_at: now() - 3590,
                ..old
            }),
            ..cred
        };
        cache.put(&target, "leasing", &ending, Duration::from_secs(1));
        assert!(
            cache.answer(&target, "leasing", &ok).is_none(),
            "too close to the end"
        );
    }
}
