//! The JSON Schema of the report (generated in [`crate::findings::schema`], beside the model it
//! describes): `sipcheck schema` prints it.

pub use crate::findings::schema::{PATH, json_schema};
