//! `#[derive(Record)]` and `#[derive(Key)]`: a user's type is its own owned form.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

fn record_impl(input: &DeriveInput) -> TokenStream {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut preds: Vec<TokenStream> = where_clause.map_or(Vec::new(), |w| {
        w.predicates.iter().map(|p| quote!(#p)).collect()
    });
    preds.push(
        quote!(Self: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static),
    );
    quote! {
        impl #impl_generics ::rill::Record for #name #ty_generics where #(#preds),* {
            type Owned = Self;
            #[inline]
            fn into_owned(self) -> Self { self }
        }
    }
}

/// `impl Record` with `Owned = Self`.
pub fn record(input: DeriveInput) -> TokenStream {
    record_impl(&input)
}

/// `impl Record` and `impl Key` comparing with `==`.
pub fn key(input: DeriveInput) -> TokenStream {
    let record = record_impl(&input);
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut preds: Vec<TokenStream> = where_clause.map_or(Vec::new(), |w| {
        w.predicates.iter().map(|p| quote!(#p)).collect()
    });
    preds.push(quote!(Self: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + ::core::hash::Hash + ::core::cmp::Eq + 'static));
    quote! {
        #record
        impl #impl_generics ::rill::Key for #name #ty_generics where #(#preds),* {
            #[inline]
            fn eq_owned(&self, owned: &Self) -> bool { self == owned }
        }
    }
}
