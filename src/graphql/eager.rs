//! Objects whose plain fields are answered in place.
//!
//! async-graphql resolves every field of every object as a future of its own,
//! then gathers them in a `FuturesUnordered`: about a microsecond and a half
//! per field, which made a page of 50 organizations with 20 stints and their
//! people (9,000 fields) cost more CPU in the server than the SQL behind it.
//! Most of those fields only read a column the object already holds. An
//! [`Eager`] object reads those in place, in selection order, and hands only
//! the others (relations, fields with arguments) to async-graphql's own
//! resolver, all at once so that their loads still batch.
//!
//! The GraphQL type is the wrapped type's: the schema does not change.

use std::borrow::Cow;
use std::ops::Deref;
use std::sync::Arc;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use futures_util::future::BoxFuture;

use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};

/// An object type whose column-backed fields can be read without awaiting.
pub trait PlainFields: ContainerType + OutputType {
    /// The value of `field` when it is one of this type's plain fields (no
    /// arguments, nothing to load, cannot fail); `None` sends the field to the
    /// type's resolver.
    fn plain_field(&self, field: &str) -> Option<Value>;

    /// The object behind `field` when this object already holds it (read in
    /// the same statement): resolved in place, neither cloned nor looked up.
    /// `None` sends the field to the type's resolver.
    fn preloaded(&self, _field: &str) -> Option<&dyn ResolveEagerly> {
        None
    }
}

/// An eager object whose type is erased, so that an object can hand out
/// related objects of other types (see [`PlainFields::preloaded`]).
pub trait ResolveEagerly: Sync {
    fn resolve_eagerly<'a>(
        &'a self,
        ctx: &'a ContextSelectionSet<'a>,
    ) -> BoxFuture<'a, ServerResult<Value>>;
}

impl<T: PlainFields> ResolveEagerly for T {
    fn resolve_eagerly<'a>(
        &'a self,
        ctx: &'a ContextSelectionSet<'a>,
    ) -> BoxFuture<'a, ServerResult<Value>> {
        resolve_eagerly(self, ctx)
    }
}

/// `T`, resolved with its plain fields read in place.
#[derive(Debug, Clone)]
pub struct Eager<T>(pub T);

impl<T> Deref for Eager<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The `OutputType` of a wrapper that holds a `T` (through `Deref`): the
/// GraphQL type is `T`'s, and its plain fields are read in place.
macro_rules! eager_output_type {
    ($wrapper:ident) => {
        impl<T: PlainFields> OutputType for $wrapper<T> {
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

fn resolve_eagerly<'a, T: PlainFields>(
    object: &'a T,
    ctx: &'a ContextSelectionSet<'a>,
) -> BoxFuture<'a, ServerResult<Value>> {
    Box::pin(async move {
        let mut plan = Plan::default();
        if !plan.collect(ctx, object, &ctx.item.node) {
            // Something this plan does not handle (a response key selected
            // twice, whose sub-selections must be merged; a custom directive):
            // async-graphql's executor does it all.
            return resolve_container(ctx, object).await;
        }
        let mut values: IndexMap<Name, Value> = IndexMap::with_capacity(plan.fields.len());
        let mut deferred = Vec::new();
        for (key, field) in plan.fields {
            let value = if field.node.name.node == "__typename" {
                Some(Value::String(object.introspection_type_name().into_owned()))
            } else if field.node.arguments.is_empty() {
                object.plain_field(&field.node.name.node)
            } else {
                None
            };
            match value {
                Some(value) => {
                    values.insert(key.clone(), value);
                }
                None => {
                    // Holds the key's place, so that the answer keeps the
                    // order of the selection.
                    values.insert(key.clone(), Value::Null);
                    deferred.push((key, field));
                }
            }
        }
        let resolved =
            futures_util::future::join_all(deferred.into_iter().map(|(key, field)| async move {
                let ctx_field = ctx.with_field(field);
                let nested = if field.node.arguments.is_empty() {
                    object.preloaded(&field.node.name.node)
                } else {
                    None
                };
                let value = match nested {
                    // As async-graphql resolves an object-valued field: the
                    // object's own errors are in the context already; an error
                    // here is one that makes the whole object null.
                    Some(nested) => {
                        let ctx_set = ctx_field.with_selection_set(&field.node.selection_set);
                        nested.resolve_eagerly(&ctx_set).await.map(Some)
                    }
                    None => object.resolve_field(&ctx_field).await,
                };
                (key, value)
            }))
            .await;
        for (key, result) in resolved {
            match result {
                Ok(value) => {
                    values.insert(key.clone(), value.unwrap_or_default());
                }
                // As async-graphql's executor does: the error is reported
                // and the field left out.
                Err(error) => {
                    ctx.add_error(error);
                    values.shift_remove(key);
                }
            }
        }
        Ok(Value::Object(values))
    })
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
            // @skip and @include are applied before execution starts; any
            // directive still here is one this plan does not know.
            if !selection.node.directives().is_empty() {
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

/// Helpers that give a plain field the value its resolver would.
pub mod value {
    use async_graphql::{ID, ScalarType, Value};

    use crate::domain::PartialDate;
    use crate::graphql::scalars::PartialDateScalar;

    pub fn id(id: ID) -> Value {
        Value::String(id.0)
    }

    pub fn text(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    pub fn optional_text(value: Option<&str>) -> Value {
        value.map_or(Value::Null, text)
    }

    pub fn int(n: i32) -> Value {
        Value::Number(n.into())
    }

    pub fn optional_int(n: Option<i32>) -> Value {
        n.map_or(Value::Null, int)
    }

    pub fn partial_date(date: Option<PartialDate>) -> Value {
        date.map_or(Value::Null, |d| PartialDateScalar::from(d).to_value())
    }
}
