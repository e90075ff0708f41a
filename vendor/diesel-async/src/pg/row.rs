use diesel::backend::Backend;
use diesel::row::{Field, PartialRow, RowIndex, RowSealed};
use std::{error::Error, num::NonZeroU32, sync::Arc};
use tokio_postgres::{types::Type, Row};

pub struct PgRow {
    row: Row,
    names: Arc<ColumnNames>,
}

impl PgRow {
    pub(super) fn new(row: Row, names: Arc<ColumnNames>) -> Self {
        Self { row, names }
    }
}

/// (talentgraph patch) A result's column names, hashed once for all its
/// rows: a field read by name was a scan of every column name, for each
/// field of each row (7.5% of the server's CPU on a page of publications
/// with their authors, whose rows have 22 columns; most lookups are of
/// columns a narrowed statement left out, which scanned them all).
pub(super) struct ColumnNames {
    /// Open addressing, a power of two at least twice the columns: each
    /// slot the position of a column, or `usize::MAX`.
    slots: Box<[usize]>,
    names: Box<[Box<str>]>,
}

impl ColumnNames {
    pub(super) fn of(row: &Row) -> Self {
        let names: Box<[Box<str>]> = row.columns().iter().map(|c| c.name().into()).collect();
        let mut slots = vec![usize::MAX; (names.len() * 2).next_power_of_two().max(8)];
        let mask = slots.len() - 1;
        for (index, name) in names.iter().enumerate() {
            let mut slot = hash(name) & mask;
            loop {
                match slots[slot] {
                    usize::MAX => {
                        slots[slot] = index;
                        break;
                    }
                    // A repeated name keeps its first column, as a scan
                    // from the start finds it.
                    taken if names[taken] == *name => break,
                    _ => slot = (slot + 1) & mask,
                }
            }
        }
        Self {
            slots: slots.into_boxed_slice(),
            names,
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut slot = hash(name) & mask;
        loop {
            match self.slots[slot] {
                usize::MAX => return None,
                index if &*self.names[index] == name => return Some(index),
                _ => slot = (slot + 1) & mask,
            }
        }
    }
}

/// The length and the first and last eight bytes, mixed: constant time
/// however long the name. Column names share their prefixes (`in_org_`,
/// `authorship_`) and differ at the end, so the last bytes tell most apart;
/// names that collide probe on and are told apart by comparison. A
/// byte-at-a-time hash (FNV-1a) was most of the lookup's cost, and this
/// runs once per field of every row.
fn hash(name: &str) -> usize {
    let bytes = name.as_bytes();
    let (head, tail) = match bytes.len() {
        len @ 8.. => (eight(&bytes[..8]), eight(&bytes[len - 8..])),
        _ => {
            let mut padded = [0u8; 8];
            padded[..bytes.len()].copy_from_slice(bytes);
            (u64::from_le_bytes(padded), 0)
        }
    };
    let mixed = (head.rotate_left(29) ^ tail ^ bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> 32) as usize
}

fn eight(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes);
    u64::from_le_bytes(word)
}

impl RowSealed for PgRow {}

impl<'a> diesel::row::Row<'a, diesel::pg::Pg> for PgRow {
    type InnerPartialRow = Self;
    type Field<'b>
        = PgField<'b>
    where
        Self: 'b,
        'a: 'b;

    fn field_count(&self) -> usize {
        self.row.len()
    }

    fn get<'b, I>(&'b self, idx: I) -> Option<Self::Field<'b>>
    where
        'a: 'b,
        Self: diesel::row::RowIndex<I>,
    {
        let idx = self.idx(idx)?;
        Some(PgField {
            row: &self.row,
            idx,
        })
    }

    fn partial_row(
        &self,
        range: std::ops::Range<usize>,
    ) -> diesel::row::PartialRow<'_, Self::InnerPartialRow> {
        PartialRow::new(self, range)
    }
}

impl RowIndex<usize> for PgRow {
    fn idx(&self, idx: usize) -> Option<usize> {
        if idx < self.row.len() {
            Some(idx)
        } else {
            None
        }
    }
}

impl<'a> RowIndex<&'a str> for PgRow {
    fn idx(&self, idx: &'a str) -> Option<usize> {
        self.names.position(idx)
    }
}

pub struct PgField<'a> {
    row: &'a Row,
    idx: usize,
}

impl<'a> Field<'a, diesel::pg::Pg> for PgField<'a> {
    fn field_name(&self) -> Option<&str> {
        Some(self.row.columns()[self.idx].name())
    }

    fn value(&self) -> Option<<diesel::pg::Pg as Backend>::RawValue<'_>> {
        let DieselFromSqlWrapper(value) = self.row.get(self.idx);
        value
    }
}

#[repr(transparent)]
struct TyWrapper(Type);

impl diesel::pg::TypeOidLookup for TyWrapper {
    fn lookup(&self) -> NonZeroU32 {
        NonZeroU32::new(self.0.oid()).unwrap()
    }
}

struct DieselFromSqlWrapper<'a>(Option<diesel::pg::PgValue<'a>>);

impl<'a> tokio_postgres::types::FromSql<'a> for DieselFromSqlWrapper<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + 'static + Send + Sync>> {
        let ty = unsafe { &*(ty as *const Type as *const TyWrapper) };
        Ok(DieselFromSqlWrapper(Some(diesel::pg::PgValue::new(
            raw, ty,
        ))))
    }

    fn accepts(ty: &Type) -> bool {
        ty.oid() != 0
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(DieselFromSqlWrapper(None))
    }
}
