//! Positioned JSON parsing, shared with every connector: a seed lets one element's type depend
//! on what a first, lenient pass saw in it (an asset's `asset_type` may come after its
//! `resource`).

pub(crate) use keyward_connect::{
    json_lines as content_lines, parse_json_at as parse_at, parse_json_seed as parse_seed,
};
