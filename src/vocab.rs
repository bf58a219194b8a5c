//! Closed vocabularies: enums whose every value has one spelling that users
//! type and read (`sslmode: verify-full`, `--format jdbc`, check id `tls.chain`).
//!
//! [`vocabulary!`](crate::vocabulary) declares such an enum together with its
//! names, so nothing keeps a second list by hand: `ALL`, `as_str`, `parse`,
//! `names`, `Display`, and serde as the same spelling all come from the one
//! declaration.

/// Declares a vocabulary enum: `Variant => "spelling"` per value, in the order
/// `ALL` lists them. Extra derives (e.g. `PartialOrd`) may be given as
/// attributes; `Debug, Clone, Copy, PartialEq, Eq, Hash` are always derived.
#[macro_export]
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$( $name::$variant ),+];

            /// The one spelling users type and read.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// The value spelled `text`, if any.
            pub fn parse(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }

            /// Every spelling, in declaration order.
            pub fn names() -> impl Iterator<Item = &'static str> {
                Self::ALL.iter().map(|v| v.as_str())
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| {
                    <D::Error as ::serde::de::Error>::custom(format!(
                        "unknown {} `{text}` (one of: {})",
                        stringify!($name),
                        $name::names().collect::<Vec<_>>().join(", ")
                    ))
                })
            }
        }

        impl $crate::vocab::Vocabulary for $name {
            fn all() -> &'static [Self] {
                Self::ALL
            }

            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }
    };
}

/// What generic code (the catalog reader's `one_of`) knows of a vocabulary.
pub trait Vocabulary: Copy + 'static {
    /// Every value.
    fn all() -> &'static [Self];
    /// Its spelling.
    fn as_str(self) -> &'static str;
}

#[cfg(test)]
mod tests {
    crate::vocabulary! {
        /// A test vocabulary.
        enum Fruit {
            /// Apple.
            Apple => "apple",
            /// Blood orange.
            BloodOrange => "blood-orange",
        }
    }

    #[test]
    fn names_parse_display_and_serde_agree() {
        for &fruit in Fruit::ALL {
            assert_eq!(Fruit::parse(fruit.as_str()), Some(fruit));
            assert_eq!(fruit.to_string(), fruit.as_str());
            let json = serde_json::to_string(&fruit).unwrap();
            assert_eq!(json, format!("\"{}\"", fruit.as_str()));
            assert_eq!(serde_json::from_str::<Fruit>(&json).unwrap(), fruit);
        }
        assert_eq!(Fruit::parse("pear"), None);
        let err = serde_json::from_str::<Fruit>("\"pear\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("apple, blood-orange"), "{err}");
        assert_eq!(format!("{:<6}|", Fruit::Apple), "apple |");
    }
}
