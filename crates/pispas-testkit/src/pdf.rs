//! Small, valid PDFs built in memory for tests and benchmarks (exact xref offsets), so nothing
//! depends on a PDF file in the repository or a PDF library.

use std::fmt::Write as _;

/// A PDF of `objects` (object 1 is the catalog), with an exact cross-reference table.
pub fn assemble(objects: &[String]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// One page per entry of `pages`, each `width_pt` × `height_pt` points with a black rectangle
/// `(x, y, w, h)` (PDF coordinates, origin bottom-left).
pub fn boxes(width_pt: u32, height_pt: u32, pages: &[(u32, u32, u32, u32)]) -> Vec<u8> {
    let n = pages.len();
    let mut objects: Vec<String> = vec!["<< /Type /Catalog /Pages 2 0 R >>".into()];
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 3 + 2 * i)).collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {n} >>",
        kids.join(" ")
    ));
    for (i, (x, y, w, h)) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt} {height_pt}] /Contents {} 0 R /Resources << >> >>",
            4 + 2 * i
        ));
        let stream = format!("0 0 0 rg {x} {y} {w} {h} re f");
        objects.push(format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ));
    }
    assemble(&objects)
}

/// A receipt-sized page (72 mm × 100 mm) with a title, fifteen item lines in Helvetica and two
/// filled boxes: what a POS's PDF ticket looks like to the renderer.
pub fn receipt_page() -> Vec<u8> {
    let mut content = String::from("BT /F1 9 Tf 10 260 Td (BAR PEPE - Ticket 123) Tj ET\n");
    for i in 0..15 {
        let y = 240 - i * 12;
        let _ = writeln!(
            content,
            "BT /F1 8 Tf 10 {y} Td (1 x Cafe con leche ........ {i},50 EUR) Tj ET"
        );
    }
    content.push_str("0 0 0 rg 10 20 60 60 re f 80 20 40 20 re f\n");
    assemble(&[
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 204 283] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xref_points_at_each_object() {
        let pdf = boxes(100, 100, &[(1, 1, 5, 5), (2, 2, 5, 5)]);
        let text = String::from_utf8_lossy(&pdf);
        let xref = text.find("xref\n").unwrap();
        let offsets: Vec<usize> = text[xref..]
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .map(|l| l[..10].parse().unwrap())
            .collect();
        assert_eq!(
            offsets.len(),
            6,
            "catalog, pages, and a page and its content each"
        );
        for (i, o) in offsets.iter().enumerate() {
            assert!(text[*o..].starts_with(&format!("{} 0 obj", i + 1)));
        }
    }
}
