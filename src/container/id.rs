//! Container ids become directory names under the runtime root, so they are checked before any
//! file is created: `../x` or `a/b` must never reach a path join.

use super::ContainerError;

/// Accepts 1-1024 characters of `[A-Za-z0-9_.+-]`, except `.` and `..`.
pub fn validate_id(id: &str) -> Result<(), ContainerError> {
    let bad = |reason| Err(ContainerError::InvalidId { id: id.to_string(), reason });
    if id.is_empty() {
        return bad("empty");
    }
    if id.len() > 1024 {
        return bad("longer than 1024 characters");
    }
    if id == "." || id == ".." {
        return bad("'.' and '..' are not ids");
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-')) {
        return bad("only A-Z, a-z, 0-9, '_', '.', '+' and '-' are allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_runc_style_ids() {
        for id in ["a", "abc-123_x.y+z", "0", &"x".repeat(1024)] {
            validate_id(id).unwrap();
        }
    }

    #[test]
    fn refuses_traversal_and_odd_characters() {
        for id in ["", ".", "..", "../x", "a/b", "a b", "a\0b", "ä", &"x".repeat(1025), "x\n"] {
            assert!(validate_id(id).is_err(), "{id:?} was accepted");
        }
    }
}
