//! The aws provider's data sources, one file each.

use crate::DataSource;

pub fn all() -> Vec<Box<dyn DataSource>> {
    vec![]
}
