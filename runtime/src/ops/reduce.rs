//! `reduce(f)`: one record per batch, all records reduced with `f`; nothing for an empty batch.

use crate::Parts;

/// Reduces the per-partition partial results (in partition order) into the result.
pub fn merge<T, F: Fn(T, T) -> T>(partials: Vec<Option<T>>, f: F) -> Parts<T> {
    let total = partials.into_iter().flatten().reduce(f);
    vec![total.into_iter().collect()]
}

/// Folds `x` into a partition's partial result.
#[inline]
pub fn fold<T, F: FnOnce(T, T) -> T>(acc: &mut Option<T>, x: T, f: F) {
    *acc = Some(match acc.take() {
        None => x,
        Some(a) => f(a, x),
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn reduces_or_yields_nothing() {
        assert_eq!(
            super::merge(vec![Some(1), None, Some(4)], |a, b| a + b),
            vec![vec![5]]
        );
        assert_eq!(
            super::merge(Vec::<Option<i32>>::new(), |a, b| a + b),
            vec![Vec::<i32>::new()]
        );
        let mut acc = None;
        super::fold(&mut acc, 2, |a, b| a * b);
        super::fold(&mut acc, 5, |a, b| a * b);
        assert_eq!(acc, Some(10));
    }
}
