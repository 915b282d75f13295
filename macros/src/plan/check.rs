//! Compile-time checks of window lengths and slides written as literals.
//!
//! Where a length or slide is a literal `Duration::from_secs(n)` (or `from_millis`, ...)
//! the macro rejects zero, and where the stream's interval is known as a literal too (the
//! context written as `StreamingContext::manual(Duration::from_secs(1))`, or an upstream
//! window's literal slide) it rejects lengths and slides that are not multiples of it.
//! Everything else is checked when the pipeline is defined and reported by `start()`.

use super::{Kind, Plan};
use crate::errors::Errors;
use syn::{Expr, ExprCall, ExprLit, Lit};

/// Milliseconds of a literal `Duration::from_*(n)` expression.
pub fn literal_ms(e: &Expr) -> Option<u128> {
    let Expr::Call(ExprCall { func, args, .. }) = e else {
        return None;
    };
    let Expr::Path(p) = &**func else {
        return None;
    };
    let segs: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if segs.len() < 2 || segs[segs.len() - 2] != "Duration" || args.len() != 1 {
        return None;
    }
    let Expr::Lit(ExprLit {
        lit: Lit::Int(n), ..
    }) = &args[0]
    else {
        return None;
    };
    let n: u128 = n.base10_parse().ok()?;
    match segs[segs.len() - 1].as_str() {
        "from_secs" => Some(n * 1000),
        "from_millis" => Some(n),
        "from_mins" => Some(n * 60_000),
        "from_micros" if n % 1000 == 0 => Some(n / 1000),
        "from_nanos" if n % 1_000_000 == 0 => Some(n / 1_000_000),
        _ => None,
    }
}

/// The batch interval, when the context is written as a constructor with a literal.
pub fn literal_interval(ctx: &Expr) -> Option<u128> {
    let Expr::Call(ExprCall { func, args, .. }) = ctx else {
        return None;
    };
    let Expr::Path(p) = &**func else {
        return None;
    };
    let last = p.path.segments.last()?.ident.to_string();
    if (last == "manual" || last == "new") && args.len() == 1 {
        literal_ms(&args[0])
    } else {
        None
    }
}

/// Checks every window whose length or slide is a literal.
pub fn windows(plan: &Plan, interval: Option<u128>, errors: &mut Errors) {
    // The statically known slide of each node, in milliseconds.
    let mut slide: Vec<Option<u128>> = Vec::with_capacity(plan.nodes.len());
    for node in &plan.nodes {
        let parent = node.inputs.first().and_then(|i| slide[*i]);
        let s = match node.kind {
            Kind::Source => interval,
            Kind::Op(op) => match op.def().window {
                None => parent,
                Some((l, s)) => {
                    let len = node.args.get(l).map(|e| (e, literal_ms(e)));
                    let every = node.args.get(s).map(|e| (e, literal_ms(e)));
                    for (e, ms) in [len, every].into_iter().flatten() {
                        match (ms, parent) {
                            (Some(0), _) => {
                                errors.push(syn::Error::new_spanned(e, "a window length or slide must be positive"))
                            }
                            (Some(ms), Some(p)) if ms % p != 0 => errors.push(syn::Error::new_spanned(
                                e,
                                format!("must be a multiple of the stream's interval ({p} ms), not {ms} ms"),
                            )),
                            _ => {}
                        }
                    }
                    match every {
                        Some((_, ms)) => ms,
                        None => parent,
                    }
                }
            },
        };
        slide.push(s);
    }
}
