//! "Did you mean ...?" for misspelt operator, source and stream names.

/// Levenshtein distance between two short names.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate nearest to `name`, if it is near enough to be a likely typo.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    let snake = to_snake(name);
    candidates
        .into_iter()
        .map(|c| (if c == snake { 0 } else { distance(name, c) }, c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Spark's camelCase name in rill's snake_case (`reduceByKey` -> `reduce_by_key`).
pub fn to_snake(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `"; did you mean `x`?"` or nothing.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(name, candidates).map_or(String::new(), |c| format!("; did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos() {
        assert_eq!(distance("flatmap", "flat_map"), 1);
        assert_eq!(
            nearest("fletmap", ["map", "flat_map", "filter"]),
            Some("flat_map")
        );
        assert_eq!(
            nearest("reduceByKey", ["reduce_by_key", "reduce"]),
            Some("reduce_by_key")
        );
        assert_eq!(
            nearest("redcue_by_key", ["reduce_by_key", "reduce"]),
            Some("reduce_by_key")
        );
        assert_eq!(nearest("zzz", ["map"]), None);
    }
}
