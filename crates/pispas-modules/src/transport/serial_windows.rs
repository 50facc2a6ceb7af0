//! Windows serial device names: `COM3`, `com3`, `\\.\COM10` and the URI form `//./COM10` all open
//! the same way. Ports above COM9 only open through the `\\.\` device namespace; serialport adds
//! that prefix for names that lack it, so this only normalises what users type.

/// The name to hand to the OS for `path` as written in a URI.
pub(crate) fn device_name(path: &str) -> String {
    let trimmed = path.trim();
    // `serial:////./COM10` leaves `//./COM10` after the scheme.
    let unslashed = trimmed
        .strip_prefix("//./")
        .map(|rest| format!(r"\\.\{rest}"));
    let name = unslashed.unwrap_or_else(|| trimmed.to_string());
    match name.get(..3) {
        Some(p)
            if p.eq_ignore_ascii_case("com") && name[3..].chars().all(|c| c.is_ascii_digit()) =>
        {
            format!("COM{}", &name[3..])
        }
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::device_name;

    #[test]
    fn com_names_are_normalised() {
        assert_eq!(device_name("com3"), "COM3");
        assert_eq!(device_name("COM10"), "COM10");
        assert_eq!(device_name(r"\\.\COM10"), r"\\.\COM10");
        assert_eq!(device_name("//./COM12"), r"\\.\COM12");
    }
}
