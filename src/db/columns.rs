//! One declaration per entity's columns ([`entity!`]), and everything the read
//! path derives from it.
//!
//! An entity's `db/` module declares each column once: its Rust type, the
//! GraphQL field that shows it, and whether every read needs it (ids and
//! keys). From that declaration come:
//!
//! - the whole row (`OrganizationRow`), with diesel's `Selectable` for the
//!   query builder and `RETURNING`;
//! - the read row (`OrganizationRead`): the always-read columns plain, every
//!   other one an `Option` that is `None` when the statement left it out.
//!   It is read by name, so one type serves every select list; beside
//!   another table's columns it is read under the entity's prefix
//!   ([`Prefixed`], e.g. `org_version` beside a stint's own `version`);
//! - the set of columns a selection needs ([`ColumnSet::for_fields`]) and its
//!   select lists ([`ColumnSet::select`], [`ColumnSet::select_prefixed`]);
//! - the list of GraphQL fields the entity answers from columns, and
//!   ([`Entity::OTHER_FIELDS`]) those it answers otherwise, which a test holds
//!   against the schema (`graphql::projection`'s tests).
//!
//! A select list holds the always-read columns plus exactly the columns the
//! selection's fields map to. Each distinct list is a distinct statement text,
//! and hand-written statements stay prepared per text ([`super::Prepared`]):
//! the texts of one statement are bounded by the subsets of an entity's
//! optional columns (a handful each), and in practice a client sends a few
//! shapes.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::{LazyLock, Mutex, PoisonError};

use diesel::deserialize::{self, QueryableByName};
use diesel::pg::Pg;
use diesel::row::NamedRow;

/// One column of an entity's declaration.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The column's name in its table.
    pub name: &'static str,
    /// The GraphQL field that shows it (several columns may show one field);
    /// empty for none.
    pub field: &'static str,
    /// Read by every statement, whatever the selection asks.
    pub always: bool,
}

/// An entity's read row, as [`entity!`] declares it.
pub trait Entity: Sized {
    /// Every column: the always-read ones first, in declaration order.
    const COLUMNS: &'static [Column];
    /// The names of [`Entity::COLUMNS`] with the entity's prefix, in the
    /// same order: how a joined read names them beside another table's.
    const PREFIXED: &'static [&'static str];
    /// The names of [`Entity::COLUMNS`] with `in_` before the entity's
    /// prefix: a second read of the entity in the same row (a stint's
    /// organization beside an authorship's affiliation).
    const NESTED: &'static [&'static str];
    /// The GraphQL fields of the entity's type that no column answers
    /// directly: relations and computed fields.
    const OTHER_FIELDS: &'static [&'static str];

    /// Reads the row from columns named `names` (one per [`Entity::COLUMNS`]):
    /// a column the statement left out reads as `None`.
    fn build_named<'a>(row: &impl NamedRow<'a, Pg>, names: &[&str]) -> deserialize::Result<Self>;

    /// The GraphQL fields the columns answer.
    fn column_fields() -> impl Iterator<Item = &'static str> {
        Self::COLUMNS
            .iter()
            .map(|column| column.field)
            .filter(|field| !field.is_empty())
    }
}

/// A set of an entity's columns: what one statement reads.
pub struct ColumnSet<E> {
    bits: u64,
    entity: PhantomData<fn() -> E>,
}

impl<E: Entity> ColumnSet<E> {
    fn of(bits: u64) -> Self {
        ColumnSet {
            bits,
            entity: PhantomData,
        }
    }

    /// The columns every read needs.
    pub fn always() -> Self {
        Self::of(
            E::COLUMNS
                .iter()
                .enumerate()
                .filter(|(_, column)| column.always)
                .fold(0, |bits, (index, _)| bits | 1 << index),
        )
    }

    /// Every column.
    pub fn all() -> Self {
        Self::of((1u64 << E::COLUMNS.len()) - 1)
    }

    /// The always-read columns and those that show one of `fields`.
    pub fn for_fields<'f>(fields: impl IntoIterator<Item = &'f str>) -> Self {
        let mut set = Self::always();
        for field in fields {
            for (index, column) in E::COLUMNS.iter().enumerate() {
                if column.field == field {
                    set.bits |= 1 << index;
                }
            }
        }
        set
    }

    /// The columns of either set.
    pub fn union(self, other: Self) -> Self {
        Self::of(self.bits | other.bits)
    }

    /// The columns of either of two optional sets: `None` only when neither
    /// reader asks for the relation at all.
    pub fn union_of(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) => Some(a.union(b)),
            (a, b) => a.or(b),
        }
    }

    fn columns(self) -> impl Iterator<Item = (usize, &'static Column)> {
        E::COLUMNS
            .iter()
            .enumerate()
            .filter(move |(index, _)| self.bits & (1 << index) != 0)
    }

    /// `alias.column, …` for the set's columns.
    pub fn select(self, alias: &'static str) -> &'static str {
        self.kept(SelectList::Plain, alias, |(_, column)| {
            format!("{alias}.{}", column.name)
        })
    }

    /// `alias.column AS prefix_column, …` for the set's columns (read back
    /// with [`Prefixed`]).
    pub fn select_prefixed(self, alias: &'static str) -> &'static str {
        self.kept(SelectList::Prefixed, alias, |(index, column)| {
            format!("{alias}.{} AS {}", column.name, E::PREFIXED[index])
        })
    }

    /// `alias.column AS in_prefix_column, …` for the set's columns (read
    /// back with [`Nested`]).
    pub fn select_nested(self, alias: &'static str) -> &'static str {
        self.kept(SelectList::Nested, alias, |(index, column)| {
            format!("{alias}.{} AS {}", column.name, E::NESTED[index])
        })
    }

    /// The select list of this set, kind and alias: built once, then kept.
    ///
    /// Statements are written per request, and listing their columns one
    /// `format!` at a time was a tenth of the server's work on a lookup by
    /// slug. The lists kept are bounded as the statement texts are (see the
    /// module's documentation): the column sets selections ask for, times
    /// the few aliases statements use.
    fn kept(
        self,
        kind: SelectList,
        alias: &'static str,
        each: impl Fn((usize, &'static Column)) -> String,
    ) -> &'static str {
        type Key = (&'static str, SelectList, &'static str, u64);
        static KEPT: LazyLock<Mutex<HashMap<Key, &'static str, foldhash::fast::RandomState>>> =
            LazyLock::new(Mutex::default);
        let key = (std::any::type_name::<E>(), kind, alias, self.bits);
        let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
        kept.entry(key).or_insert_with(|| {
            let list = self.columns().map(each).collect::<Vec<_>>().join(", ");
            Box::leak(list.into_boxed_str())
        })
    }
}

/// How a select list names its columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SelectList {
    Plain,
    Prefixed,
    Nested,
}

// Written out: derived, they would ask the same of `E`.
impl<E> Clone for ColumnSet<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for ColumnSet<E> {}
impl<E> PartialEq for ColumnSet<E> {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}
impl<E> Eq for ColumnSet<E> {}
impl<E> Hash for ColumnSet<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bits.hash(state);
    }
}
impl<E> fmt::Debug for ColumnSet<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ColumnSet({:#b})", self.bits)
    }
}

/// An entity's row read under its prefix beside another table's columns;
/// `None` when the statement read none of it (its first always-read column,
/// the probe, is absent) or when a LEFT JOIN found no row for it (the probe,
/// an id, is NULL: an authorship without an affiliation).
#[derive(Debug)]
pub struct Prefixed<E>(pub Option<E>);

impl<E: Entity> QueryableByName<Pg> for Prefixed<E> {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> deserialize::Result<Self> {
        build_under(row, E::PREFIXED).map(Prefixed)
    }
}

/// An entity's row read under its nested names ([`Entity::NESTED`]), as
/// [`Prefixed`] reads it under its prefix.
#[derive(Debug)]
pub struct Nested<E>(pub Option<E>);

impl<E: Entity> QueryableByName<Pg> for Nested<E> {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> deserialize::Result<Self> {
        build_under(row, E::NESTED).map(Nested)
    }
}

/// The entity read from the columns `names`, or `None` when its probe
/// (the first, an always-read id) is absent or NULL.
fn build_under<'a, E: Entity>(
    row: &impl NamedRow<'a, Pg>,
    names: &[&str],
) -> deserialize::Result<Option<E>> {
    use diesel::row::{Field, Row};
    let probe = Row::get(row, names[0]);
    if probe.is_none_or(|field| field.is_null()) {
        return Ok(None);
    }
    E::build_named(row, names).map(Some)
}

/// Declares an entity's columns once; see the module doc for what it derives.
///
/// ```ignore
/// entity! {
///     /// doc of the whole row
///     row OrganizationRow, read OrganizationRead, table organizations, prefix "org_";
///     always { id: i64 => "id", slug: String => "slug", … }
///     columns { kind: String => "kind", founded_on: Option<NaiveDate> => "foundedOn", … }
///     other_fields ["units", "founders", …]
/// }
/// ```
///
/// `always` columns are read by every statement; `columns` only when the
/// selection asks for their field (`=> ""`: no field of its own). The
/// table's module must have the table (`schema::organizations`) in scope.
macro_rules! entity {
    (
        $(#[$row_meta:meta])*
        row $row:ident, read $read:ident, table $table:ident, prefix $prefix:literal;
        always { $( $key:ident : $kty:ty => $kfield:literal ),* $(,)? }
        columns { $( $col:ident : $cty:ty => $cfield:literal ),* $(,)? }
        other_fields [ $( $other:literal ),* $(,)? ]
    ) => {
        $(#[$row_meta])*
        #[derive(
            Debug,
            Clone,
            diesel::Queryable,
            diesel::QueryableByName,
            diesel::Selectable,
            diesel::Identifiable,
        )]
        #[diesel(table_name = $table, check_for_backend(diesel::pg::Pg))]
        pub struct $row {
            $( pub $key: $kty, )*
            $( pub $col: $cty, )*
        }

        /// The row as a read returns it: the always-read columns, and the
        /// others when the statement read them (`None` otherwise).
        #[derive(Debug, Clone)]
        pub struct $read {
            $( pub $key: $kty, )*
            $( pub $col: Option<$cty>, )*
        }

        impl From<$row> for $read {
            fn from(row: $row) -> Self {
                $read {
                    $( $key: row.$key, )*
                    $( $col: Some(row.$col), )*
                }
            }
        }

        impl $read {
            /// The whole row, when the statement read every column.
            // Not every entity's reads need it.
            #[allow(dead_code)]
            pub fn whole(self) -> Option<$row> {
                Some($row {
                    $( $key: self.$key, )*
                    $( $col: self.$col?, )*
                })
            }
        }

        impl $crate::db::columns::Entity for $read {
            const COLUMNS: &'static [$crate::db::columns::Column] = &[
                $( $crate::db::columns::Column {
                    name: stringify!($key),
                    field: $kfield,
                    always: true,
                }, )*
                $( $crate::db::columns::Column {
                    name: stringify!($col),
                    field: $cfield,
                    always: false,
                }, )*
            ];
            const PREFIXED: &'static [&'static str] = &[
                $( concat!($prefix, stringify!($key)), )*
                $( concat!($prefix, stringify!($col)), )*
            ];
            const NESTED: &'static [&'static str] = &[
                $( concat!("in_", $prefix, stringify!($key)), )*
                $( concat!("in_", $prefix, stringify!($col)), )*
            ];
            const OTHER_FIELDS: &'static [&'static str] = &[$( $other ),*];

            fn build_named<'a>(
                row: &impl diesel::row::NamedRow<'a, diesel::pg::Pg>,
                names: &[&str],
            ) -> diesel::deserialize::Result<Self> {
                #[allow(non_camel_case_types, clippy::enum_variant_names)]
                enum Index { $( $key, )* $( $col, )* }
                Ok($read {
                    $( $key: diesel::row::NamedRow::get::<
                        <$table::$key as diesel::Expression>::SqlType,
                        $kty,
                    >(row, names[Index::$key as usize])?, )*
                    // One lookup by name for a column the statement may
                    // have left out (perf: looking it up twice cost 5%).
                    $( $col: match diesel::row::Row::get(row, names[Index::$col as usize]) {
                        Some(field) => Some(<$cty as diesel::deserialize::FromSql<
                            <$table::$col as diesel::Expression>::SqlType,
                            diesel::pg::Pg,
                        >>::from_nullable_sql(diesel::row::Field::value(&field))?),
                        None => None,
                    }, )*
                })
            }
        }

        impl diesel::deserialize::QueryableByName<diesel::pg::Pg> for $read {
            fn build<'a>(
                row: &impl diesel::row::NamedRow<'a, diesel::pg::Pg>,
            ) -> diesel::deserialize::Result<Self> {
                const NAMES: &[&str] = &[
                    $( stringify!($key), )*
                    $( stringify!($col), )*
                ];
                <$read as $crate::db::columns::Entity>::build_named(row, NAMES)
            }
        }
    };
}

pub(crate) use entity;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::organizations::OrganizationRead;

    #[test]
    fn a_selection_reads_the_always_read_columns_and_those_of_its_fields() {
        let set = ColumnSet::<OrganizationRead>::for_fields(["foundedOn", "name", "units"]);
        assert_eq!(
            set.select("o"),
            "o.id, o.slug, o.name, o.founded_on, o.founded_on_precision"
        );
        assert_eq!(
            set.select_prefixed("o"),
            "o.id AS org_id, o.slug AS org_slug, o.name AS org_name, \
             o.founded_on AS org_founded_on, o.founded_on_precision AS org_founded_on_precision"
        );
        assert_eq!(
            ColumnSet::<OrganizationRead>::for_fields([]),
            ColumnSet::always()
        );
        assert_eq!(
            ColumnSet::<OrganizationRead>::all()
                .select("o")
                .matches(", ")
                .count()
                + 1,
            OrganizationRead::COLUMNS.len()
        );
    }
}
