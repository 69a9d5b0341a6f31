//! Chain validity: chain types, hooks and priorities per family.
