//! `#[rill::main]`: a job function made into a program's `main`.
//!
//! ```text
//! #[rill::main]                                   fn main(ctx: StreamingContext) -> rill::Result<()>
//! #[rill::main(batch_interval = "1s",             fn main(ctx: StreamingContext, args: Args) -> rill::Result<()>
//!              master = "local[2]",
//!              checkpoint = "checkpoints",
//!              configure = path::to_fn)]
//! ```
//!
//! The function keeps its body and signature under another name; `main` calls
//! `rill::cli::run` with it, the defaults given, and `configure` (a
//! `fn(rill::Builder, &Args) -> rill::Builder` adding the job's own settings), or
//! none.

use crate::errors::Errors;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, FnArg, Ident, ItemFn, Lit, LitStr, Meta, Path, Token};

/// The attribute's arguments.
#[derive(Default)]
pub struct MainArgs {
    batch_interval: Option<LitStr>,
    master: Option<LitStr>,
    checkpoint: Option<LitStr>,
    configure: Option<Path>,
}

impl Parse for MainArgs {
    /// `name = value, ...` with names `batch_interval`, `master` and `checkpoint`
    /// (string literals) and `configure` (a path).
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated(input)?;
        let mut args = MainArgs::default();
        let mut errors = Errors::default();
        for meta in metas {
            let Meta::NameValue(nv) = &meta else {
                errors.error(&meta, "expected `name = value`");
                continue;
            };
            let name = nv
                .path
                .get_ident()
                .map(Ident::to_string)
                .unwrap_or_default();
            match (name.as_str(), &nv.value) {
                (
                    "batch_interval",
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }),
                ) => args.batch_interval = Some(s.clone()),
                (
                    "master",
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }),
                ) => args.master = Some(s.clone()),
                (
                    "checkpoint",
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }),
                ) => args.checkpoint = Some(s.clone()),
                ("configure", Expr::Path(p)) => args.configure = Some(p.path.clone()),
                ("batch_interval" | "master" | "checkpoint", v) => {
                    errors.error(v, format!("`{name}` takes a string, e.g. \"1s\""))
                }
                ("configure", v) => errors.error(
                    v,
                    "`configure` takes the path of a `fn(rill::Builder, &Args) -> rill::Builder`",
                ),
                _ => errors.error(
                    &nv.path,
                    format!(
                        "unknown argument `{name}`; expected `batch_interval`, `master`, `checkpoint` or `configure`"
                    ),
                ),
            }
        }
        errors.finish().map(|()| args)
    }
}

/// The program's `main` for the job function `f`.
pub fn expand(args: MainArgs, f: ItemFn) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    if f.sig.asyncness.is_some() {
        errors.error(f.sig.asyncness, "a rill job function is not async");
    }
    let inputs: Vec<&FnArg> = f.sig.inputs.iter().collect();
    let args_ty = match inputs.as_slice() {
        [_ctx] => None,
        [_ctx, FnArg::Typed(a)] => Some(a.ty.clone()),
        _ => {
            errors.error(
                &f.sig,
                "expected `fn main(ctx: StreamingContext) -> rill::Result<()>` or \
                 `fn main(ctx: StreamingContext, args: Args) -> rill::Result<()>` \
                 with `Args` deriving `rill::clap::Args`",
            );
            None
        }
    };
    errors.finish()?;
    let span = f.sig.ident.span();
    let job = Ident::new("__rill_job", Span::mixed_site());
    let mut inner = f.clone();
    inner.sig.ident = job.clone();
    inner.vis = syn::Visibility::Inherited;
    let attrs = &f.attrs;
    let vis = &f.vis;
    let lit = |s: &Option<LitStr>, d: &str| {
        s.as_ref()
            .map_or_else(|| LitStr::new(d, Span::call_site()), Clone::clone)
    };
    let interval = lit(&args.batch_interval, "1s");
    let master = lit(&args.master, "local[*]");
    let checkpoint = match &args.checkpoint {
        Some(c) => quote!(::std::option::Option::Some(#c)),
        None => quote!(::std::option::Option::None),
    };
    let (ty, call) = match &args_ty {
        Some(ty) => (quote!(#ty), quote!(#job(__ctx, __args))),
        None => (quote!(::rill::cli::NoArgs), quote!(#job(__ctx))),
    };
    let configure = match &args.configure {
        Some(p) => quote_spanned!(p.span()=> #p),
        None => quote!(|__b: ::rill::Builder, _: &#ty| __b),
    };
    Ok(quote_spanned! {span=>
        #(#attrs)*
        #vis fn main() -> ::std::process::ExitCode {
            #inner
            ::rill::cli::run::<#ty>(
                ::rill::cli::Defaults {
                    name: match ::std::option_env!("CARGO_BIN_NAME") {
                        ::std::option::Option::Some(__n) => __n,
                        ::std::option::Option::None => ::std::env!("CARGO_CRATE_NAME"),
                    },
                    batch_interval: #interval,
                    master: #master,
                    checkpoint: #checkpoint,
                },
                #configure,
                |__ctx, __args: #ty| #call,
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(attr: TokenStream, item: TokenStream) -> Result<String, String> {
        let all = |e: syn::Error| e.into_compile_error().to_string();
        let args: MainArgs = syn::parse2(attr).map_err(all)?;
        let f: ItemFn = syn::parse2(item).map_err(all)?;
        expand(args, f).map(|t| t.to_string()).map_err(all)
    }

    #[test]
    fn defaults_and_job_args_reach_run() {
        let out = expand_str(
            quote!(batch_interval = "500ms", master = "local[2]"),
            quote!(
                fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
                    Ok(())
                }
            ),
        )
        .unwrap();
        assert!(
            out.contains("\"500ms\"") && out.contains("\"local[2]\""),
            "{out}"
        );
        assert!(out.contains("run :: < Args >"), "{out}");
        let plain = expand_str(
            quote!(),
            quote!(
                fn main(ctx: StreamingContext) -> rill::Result<()> {
                    Ok(())
                }
            ),
        )
        .unwrap();
        assert!(
            plain.contains("NoArgs") && plain.contains("\"1s\""),
            "{plain}"
        );
    }

    #[test]
    fn every_wrong_argument_is_reported() {
        let err = expand_str(
            quote!(batch_interval = 5, colour = "red"),
            quote!(
                fn main() {}
            ),
        )
        .unwrap_err();
        assert!(err.contains("`batch_interval` takes a string"), "{err}");
        assert!(err.contains("unknown argument `colour`"), "{err}");
        let err = expand_str(
            quote!(),
            quote!(
                fn main() {}
            ),
        )
        .unwrap_err();
        assert!(
            err.contains("expected `fn main(ctx: StreamingContext)"),
            "{err}"
        );
    }
}
