//! Objects whose fields resolve in place.
//!
//! async-graphql's executor gives every field of every object a boxed future
//! of its own, gathered in a `FuturesUnordered`: about a microsecond and a
//! half per field, which made a page of 50 organizations with 20 stints and
//! their people (9,000 fields) cost more CPU in the server than the SQL behind
//! it. Most of those fields only read a column the object already holds. An
//! [`Eager`] object runs its fields' own resolvers (guards, argument parsing
//! and all) side by side in one allocation, polled in selection order: those
//! that are ready at once are answered there, and the others (relations that
//! load) wait together, so that their loads still batch.
//!
//! Only the work is different: the answer follows the same rules as
//! async-graphql's (patched) executor, field for field: keys in selection
//! order, a failed nullable field `null` with its error, a failed non-null
//! field failing the whole object, every field through the schema's
//! extensions if it has any. Whatever this does not handle itself (a response
//! key selected twice, whose selections merge; a directive other than
//! `@skip`/`@include`) goes to that executor, as does every object of a
//! request that carries [`StockExecution`], which is how the tests compare
//! the two.
//!
//! The GraphQL type is the wrapped type's: the schema does not change.
//!
//! Every field's future is as large as the largest resolver's of its type
//! (the derived dispatch is one future for all of them), and this path moves
//! each into place once: 8,000 of them for a page of 50 organizations with
//! their stints and people. Resolvers that hold much across their awaits
//! (pages, filters, analytics) therefore box their bodies, which brought an
//! Organization field's future from 6,568 bytes to 656.

use std::borrow::Cow;
use std::ops::Deref;
use std::sync::Arc;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, null_or_propagate, resolve_container};
use futures_util::future::{BoxFuture, Either, ready};

use async_graphql::extensions::ResolveInfo;
use async_graphql::{
    Context, ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value,
};

/// Request data that sends every object through async-graphql's own
/// executor: debug builds arm it for the differential tests
/// (`observability::execute_graphql`), so that the two paths can be compared
/// on the same database, answer for answer.
#[derive(Debug, Clone, Copy)]
pub struct StockExecution;

/// `T`, resolved with its fields run in place.
#[derive(Debug, Clone)]
pub struct Eager<T>(pub T);

impl<T> Deref for Eager<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The `OutputType` of a wrapper that holds a `T` (through `Deref`): the
/// GraphQL type is `T`'s, and its fields are resolved in place.
macro_rules! eager_output_type {
    ($wrapper:ident $(, $lifetime:lifetime)?) => {
        impl<$($lifetime,)? T: ContainerType + PlainFields + Sync> OutputType for $wrapper<$($lifetime,)? T> {
            fn type_name() -> Cow<'static, str> {
                T::type_name()
            }

            fn qualified_type_name() -> String {
                T::qualified_type_name()
            }

            fn introspection_type_name(&self) -> Cow<'static, str> {
                (**self).introspection_type_name()
            }

            fn create_type_info(registry: &mut Registry) -> String {
                T::create_type_info(registry)
            }

            async fn resolve(
                &self,
                ctx: &ContextSelectionSet<'_>,
                _field: &Positioned<Field>,
            ) -> ServerResult<Value> {
                // Boxed: an object's fields resolve objects of the same types
                // again (a stint's person's stints), and only a box gives that
                // recursive future a size.
                resolve_eagerly(&**self, ctx).await
            }
        }
    };
}

eager_output_type!(Eager);
eager_output_type!(EagerItem);
eager_output_type!(Lent, 'a);

/// One element of a loader's shared answer, resolved in place as [`Eager`].
///
/// async-graphql's DataLoader clones each answer into its cache and again
/// out of it; an answer held as an `Arc<[T]>` makes both clones a count
/// increment, and handing out items of it keeps the rows from being copied
/// once more into the response's objects.
#[derive(Debug)]
pub struct EagerItem<T> {
    list: Arc<[T]>,
    index: usize,
}

impl<T> EagerItem<T> {
    /// The items of `list` at `indices`.
    pub fn of(list: &Arc<[T]>, indices: impl IntoIterator<Item = usize>) -> Vec<Self> {
        indices
            .into_iter()
            .filter(|&index| index < list.len())
            .map(|index| EagerItem {
                list: Arc::clone(list),
                index,
            })
            .collect()
    }
}

impl<T> Deref for EagerItem<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.list[self.index]
    }
}

/// An object a resolver either lends from its parent (read in the same
/// statement, so resolved in place, neither copied nor looked up) or loaded
/// itself; resolved as [`Eager`].
#[derive(Debug)]
pub enum Lent<'a, T> {
    Borrowed(&'a T),
    Owned(T),
}

impl<T> Deref for Lent<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Lent::Borrowed(object) => object,
            Lent::Owned(object) => object,
        }
    }
}

fn resolve_eagerly<'a, T: ContainerType + PlainFields + Sync>(
    object: &'a T,
    ctx: &'a ContextSelectionSet<'a>,
) -> BoxFuture<'a, ServerResult<Value>> {
    Box::pin(async move {
        let mut plan = Plan::default();
        let stock = ctx.data_opt::<StockExecution>().is_some()
            || !plan.collect(ctx, object, &ctx.item.node);
        if stock {
            return resolve_container(ctx, object).await;
        }
        let type_name = T::type_name();
        let mut values = KeyTemplates::object_with_keys(&plan.fields);
        let through_extensions = !ctx.query_env.extensions.is_empty();
        // Plain fields are answered at once; only the others get a future.
        let mut outcomes: Vec<Option<ServerResult<Option<Value>>>> =
            Vec::with_capacity(plan.fields.len());
        let mut pending = Vec::new();
        for (index, (_, field)) in plan.fields.iter().enumerate() {
            let ctx_field = ctx.with_field(field);
            let plain = if through_extensions {
                None
            } else {
                plain_field(object, field, &ctx_field)
            };
            if plain.is_none() {
                pending.push((index, field, ctx_field));
            }
            outcomes.push(plain);
        }
        // Each field's future is built in place in one vector, sized for the
        // largest: the resolver's own future, not an async block around it
        // that would also hold the extensions' path (a third more bytes to
        // copy per field, 9,000 fields on (b)'s page). That path, taken only
        // when the schema has extensions, is boxed.
        let resolved =
            futures_util::future::join_all(pending.iter().map(|(_, field, ctx_field)| {
                if field.node.name.node == "__typename" {
                    let name = object.introspection_type_name().into_owned();
                    return Either::Left(Either::Left(ready(Ok(Some(Value::String(name))))));
                }
                if through_extensions {
                    Either::Right(Box::pin(resolve_through_extensions(
                        object, &type_name, field, ctx_field,
                    )))
                } else {
                    Either::Left(Either::Right(object.resolve_field(ctx_field)))
                }
            }))
            .await;
        for ((index, _, _), outcome) in pending.iter().zip(resolved) {
            outcomes[*index] = Some(outcome);
        }
        let mut propagated = None;
        for (index, ((_, field), outcome)) in plan.fields.iter().zip(outcomes).enumerate() {
            let Some(outcome) = outcome else { continue };
            let value = match outcome {
                Ok(value) => value.unwrap_or_default(),
                Err(error) => {
                    match null_or_propagate(ctx, &type_name, &field.node.name.node, error) {
                        Ok(null) => null,
                        Err(error) if propagated.is_none() => {
                            propagated = Some(error);
                            continue;
                        }
                        Err(error) => {
                            ctx.add_error(error);
                            continue;
                        }
                    }
                }
            };
            if let Some((_, slot)) = values.get_index_mut(index) {
                *slot = value;
            }
        }
        match propagated {
            Some(error) => Err(error),
            None => Ok(Value::Object(values)),
        }
    })
}

/// The fields an object answers where it stands, without a future of
/// their own: those whose resolver finishes on its first poll (it reads what
/// the object holds and loads nothing).
///
/// A field runs through `#[Object]`'s own per-field resolver
/// (`__<method>_resolver`, which checks the field's guard, calls the method
/// and turns its return value into the response's), polled once. That spares
/// it the type's derived dispatch (a chain of name comparisons) and a slot
/// in the vector of pending futures, each as large as the largest field's
/// (416-656 bytes): a page of 50 organizations with 20 stints each has
/// 8,000 such fields, and answering them here took 8% off the server's work
/// on it. A field not listed is resolved as
/// before, so listing one is only ever an optimisation, and the answer is the
/// same either way: `tests/api/differential.rs` compares every listed
/// field's with the stock executor's, and debug builds assert that a listed
/// field does not wait.
pub trait PlainFields {
    /// The fields listed, as the schema names them.
    const FIELDS: &'static [&'static str];

    /// `field`'s outcome, or `None` for the executor to resolve it.
    fn plain(&self, field: &str, ctx: &Context<'_>) -> Option<ServerResult<Option<Value>>>;
}

/// Implements [`PlainFields`] for `$type`: each GraphQL field name with the
/// per-field resolver `#[Object]` generated for it (`__<method>_resolver`).
/// `when column` makes a field plain only when the object's read holds that
/// column (`Some`): without it, the resolver would load the whole row.
macro_rules! plain_fields {
    ($type:ty { $( $field:literal $(when $column:ident)? => $resolver:ident ),* $(,)? }) => {
        impl $crate::graphql::eager::PlainFields for $type {
            const FIELDS: &'static [&'static str] = &[$( $field ),*];

            fn plain(
                &self,
                field: &str,
                ctx: &async_graphql::Context<'_>,
            ) -> Option<async_graphql::ServerResult<Option<async_graphql::Value>>> {
                match field {
                    $( $field $(if self.$column.is_some())? => {
                        let outcome = $crate::graphql::eager::now(self.$resolver(ctx));
                        debug_assert!(
                            outcome.is_some(),
                            concat!(stringify!($type), ".", $field, " waited: a plain field must not"),
                        );
                        outcome
                    } )*
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use plain_fields;

/// A future's output if it is ready on its first poll.
pub fn now<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(future).poll(&mut cx) {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}

/// `field` of `object` when it is plain: `__typename`, or a listed field
/// asked without arguments.
fn plain_field<T: OutputType + PlainFields>(
    object: &T,
    field: &Positioned<Field>,
    ctx: &Context<'_>,
) -> Option<ServerResult<Option<Value>>> {
    let name = field.node.name.node.as_str();
    if name == "__typename" {
        let name = object.introspection_type_name().into_owned();
        return Some(Ok(Some(Value::String(name))));
    }
    if !field.node.arguments.is_empty() {
        return None;
    }
    object.plain(name, ctx)
}

/// Objects' maps with their keys in place, one per selection recently
/// answered on this thread, to clone from.
///
/// An object's map hashes each key (SipHash: `Value::Object` fixes the
/// hasher) as it goes in: a tenth of the server's work on a page of 50
/// organizations with their stints, whose thousand stints all have the same
/// keys. A clone of a map that holds them copies its table and hashes
/// nothing. A template is found by its keys' addresses: they are the
/// document's `Name`s, which the template holds (so a key at the same
/// address is the same string), whichever request or thread made it.
struct KeyTemplates;

thread_local! {
    static TEMPLATES: std::cell::RefCell<Vec<IndexMap<Name, Value>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl KeyTemplates {
    /// A selection's types and levels at once: a stint, its person, its
    /// organization, their parents.
    const KEPT: usize = 16;

    /// A map with `fields`' keys in order, each value `null`.
    fn object_with_keys(fields: &[(&Name, &Positioned<Field>)]) -> IndexMap<Name, Value> {
        let same_keys = |template: &IndexMap<Name, Value>| {
            template.len() == fields.len()
                && template
                    .keys()
                    .zip(fields)
                    .all(|(kept, (key, _))| std::ptr::eq(kept.as_str(), key.as_str()))
        };
        TEMPLATES.with_borrow_mut(|templates| {
            if let Some(at) = templates.iter().position(same_keys) {
                // Most recently used first, so that a selection's own
                // templates stay found at the front.
                templates[..=at].rotate_right(1);
                return templates[0].clone();
            }
            let template: IndexMap<Name, Value> = fields
                .iter()
                .map(|(key, _)| ((*key).clone(), Value::Null))
                .collect();
            templates.truncate(Self::KEPT - 1);
            templates.insert(0, template.clone());
            template
        })
    }
}

/// One field of `object` through the schema's extensions, as async-graphql's
/// executor runs it: an extension (or a guard, which the field's own resolver
/// runs) sees every field, whichever path resolves it.
async fn resolve_through_extensions<T: ContainerType + PlainFields>(
    object: &T,
    type_name: &str,
    field: &Positioned<Field>,
    ctx_field: &Context<'_>,
) -> ServerResult<Option<Value>> {
    let extensions = &ctx_field.query_env.extensions;
    let name = field.node.name.node.as_str();
    let return_type = ctx_field
        .schema_env
        .registry
        .types
        .get(type_name)
        .and_then(|ty| ty.field_by_name(name))
        .map(|meta| meta.ty.as_str());
    let (Some(path_node), Some(return_type)) = (&ctx_field.path_node, return_type) else {
        return object.resolve_field(ctx_field).await;
    };
    let info = ResolveInfo {
        path_node,
        parent_type: type_name,
        return_type,
        name,
        alias: field.node.alias.as_ref().map(|alias| alias.node.as_str()),
        is_for_introspection: false,
        field: &field.node,
    };
    let resolve = async {
        match plain_field(object, field, ctx_field) {
            Some(outcome) => outcome,
            None => object.resolve_field(ctx_field).await,
        }
    };
    futures_util::pin_mut!(resolve);
    extensions.resolve(info, &mut resolve).await
}

/// The fields a selection set asks of one object, fragments spread, in order.
#[derive(Default)]
struct Plan<'a> {
    fields: Vec<(&'a Name, &'a Positioned<Field>)>,
}

impl<'a> Plan<'a> {
    /// Adds `set`'s fields; false when the set needs async-graphql's executor.
    fn collect<T: OutputType>(
        &mut self,
        ctx: &ContextSelectionSet<'a>,
        object: &T,
        set: &'a SelectionSet,
    ) -> bool {
        for selection in &set.items {
            // @skip and @include were applied before execution started (a
            // selection they keep still carries them); any other directive is
            // one this plan does not know.
            if selection
                .node
                .directives()
                .iter()
                .any(|d| !matches!(d.node.name.node.as_str(), "skip" | "include"))
            {
                return false;
            }
            let (condition, fragment_set) = match &selection.node {
                Selection::Field(field) => {
                    let key = &field.node.response_key().node;
                    if self.fields.iter().any(|(seen, _)| *seen == key) {
                        return false;
                    }
                    self.fields.push((key, field));
                    continue;
                }
                Selection::FragmentSpread(spread) => {
                    let Some(fragment) =
                        ctx.query_env.fragments.get(&spread.node.fragment_name.node)
                    else {
                        return false;
                    };
                    (
                        Some(fragment.node.type_condition.node.on.node.as_str()),
                        &fragment.node.selection_set,
                    )
                }
                Selection::InlineFragment(fragment) => (
                    fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str()),
                    &fragment.node.selection_set,
                ),
            };
            if condition.is_none_or(|on| applies_to(ctx, object, on))
                && !self.collect(ctx, object, &fragment_set.node)
            {
                return false;
            }
        }
        true
    }
}

/// Whether a fragment on type `on` applies to `object`: `on` is its type or an
/// interface it implements.
fn applies_to<T: OutputType>(ctx: &ContextSelectionSet<'_>, object: &T, on: &str) -> bool {
    let name = object.introspection_type_name();
    name == on
        || ctx
            .schema_env
            .registry
            .implements
            .get(name.as_ref())
            .is_some_and(|interfaces| interfaces.contains(on))
}

#[cfg(test)]
mod tests {
    use async_graphql::{Context, EmptyMutation, EmptySubscription, Guard, Object, Result, Schema};

    use super::Eager;

    struct Visitor;

    impl Guard for Visitor {
        async fn check(&self, _ctx: &Context<'_>) -> Result<()> {
            Err("not for visitors".into())
        }
    }

    struct Secret {
        /// A column the read may have left out: its resolver then "loads" it,
        /// waiting as a load does.
        note: Option<&'static str>,
    }

    #[Object]
    impl Secret {
        async fn public(&self) -> &str {
            "public"
        }

        async fn note(&self) -> &str {
            match self.note {
                Some(note) => note,
                None => {
                    tokio::task::yield_now().await;
                    "loaded"
                }
            }
        }

        #[graphql(guard = "Visitor")]
        async fn hidden(&self) -> Option<&str> {
            Some("hidden")
        }
    }

    super::plain_fields!(Secret {
        "public" => __public_resolver,
        "hidden" => __hidden_resolver,
        "note" when note => __note_resolver,
    });

    struct Query;

    #[Object]
    impl Query {
        async fn secret(&self) -> Eager<Secret> {
            Eager(Secret { note: Some("read") })
        }

        async fn secrets(&self) -> Vec<Eager<Secret>> {
            [Some("read"), None, Some("read too")]
                .into_iter()
                .map(|note| Eager(Secret { note }))
                .collect()
        }
    }

    #[tokio::test]
    async fn each_selection_answers_its_own_keys_in_its_own_order() {
        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        // The same type under selections whose keys differ in order, in
        // number and in name, in one request and across requests.
        for (query, expected) in [
            (
                "{ a: secret { x: public y: public } b: secret { y: public x: public } c: secret { z: public } }",
                r#"{"a":{"x":"public","y":"public"},"b":{"y":"public","x":"public"},"c":{"z":"public"}}"#,
            ),
            (
                "{ c: secret { w: public } a: secret { y: public public } }",
                r#"{"c":{"w":"public"},"a":{"y":"public","public":"public"}}"#,
            ),
        ] {
            let response = schema.execute(query).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            let data = serde_json::to_string(&response.data).expect("serializes");
            assert_eq!(data, expected);
        }
    }

    #[tokio::test]
    async fn a_guard_on_a_field_of_an_eager_object_runs() {
        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let response = schema.execute("{ secret { public hidden } }").await;
        assert_eq!(
            response.data.into_json().ok(),
            Some(serde_json::json!({ "secret": { "public": "public", "hidden": null } }))
        );
        let messages: Vec<_> = response.errors.iter().map(|e| &e.message).collect();
        assert_eq!(messages, ["not for visitors"]);
    }

    /// A field listed `when` its column was read is answered in place when
    /// it was, and by its resolver (which waits) when it was not; debug
    /// builds would panic had a listed field waited.
    #[tokio::test]
    async fn a_plain_field_whose_column_was_left_out_is_left_to_its_resolver() {
        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let response = schema.execute("{ secrets { note public } }").await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        assert_eq!(
            response.data.into_json().ok(),
            Some(serde_json::json!({ "secrets": [
                { "note": "read", "public": "public" },
                { "note": "loaded", "public": "public" },
                { "note": "read too", "public": "public" },
            ] }))
        );
    }
}
