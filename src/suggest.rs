//! "Did you mean" suggestions for misspelt names.

/// The candidate closest to `input`, if any is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let input_lower = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&input_lower, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_the_closest_plausible_name() {
        let keys = ["allowed_source_ranges", "sslmode", "sslrootcert", "host"];
        assert_eq!(
            did_you_mean("allowed_source_range", keys),
            Some("allowed_source_ranges")
        );
        assert_eq!(did_you_mean("sslrootcrt", keys), Some("sslrootcert"));
        assert_eq!(did_you_mean("zzz", keys), None);
    }
}
