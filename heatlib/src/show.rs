//! How a value shows itself in a notebook: one trait, [`Show`], for every
//! table, listing and picture heatlib makes.
//!
//! A Jupyter front end picks the richest representation it can draw from a
//! *MIME bundle*: HTML in JupyterLab, plain text in a terminal, a picture
//! where there is one. A table also carries its data as JSON, under a type of
//! its own ([`TABLE_MIME_TYPE`]) that no front end draws but every program
//! can read (the tests do): plain `application/json` would not do, as
//! JupyterLab ranks its JSON tree viewer above HTML and would show the tree. evcxr builds that bundle from what a
//! cell prints between `EVCXR_BEGIN_CONTENT <mime type>` and
//! `EVCXR_END_CONTENT`, and it calls `(value).evcxr_display()` on a cell's
//! last expression: any method of that name in scope will do, a trait's
//! included. The kernel's start-up (`init.evcxr`) brings [`Show`] into
//! scope, so a cell that ends with a comparison, a heatmap or a check shows it.
//!
//! A type implements [`Show::mime_bundle`] only; [`Show::evcxr_text`] and
//! [`Show::evcxr_display`] are written once, here.

use std::io::Write;

use crate::error::Result;

/// The MIME type of a table's data as JSON ([`Table::to_json`](crate::Table::to_json)).
pub const TABLE_MIME_TYPE: &str = "application/vnd.heat-accel.table+json";

/// One representation of a value: its MIME type and the content in that type
/// (base64 for pictures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representation {
    /// The MIME type, as `text/html` or `image/png`.
    pub mime_type: &'static str,
    /// The content, text or base64.
    pub content: String,
}

impl Representation {
    /// A representation of type `mime_type`.
    pub fn new(mime_type: &'static str, content: impl Into<String>) -> Representation {
        Representation {
            mime_type,
            content: content.into(),
        }
    }
}

/// A value a notebook cell shows: a table, a listing or a picture.
pub trait Show {
    /// Every representation of the value, the plainest first; an error when
    /// it cannot be made (a picture too large to draw, say).
    fn mime_bundle(&self) -> Result<Vec<Representation>>;

    /// What evcxr reads from a cell's output to show the value: each
    /// representation framed by its MIME type; when the value cannot be
    /// shown, a line that says why.
    fn evcxr_text(&self) -> String {
        match self.mime_bundle() {
            Ok(bundle) => bundle
                .iter()
                .map(|shown| evcxr_content(shown.mime_type, &shown.content))
                .collect(),
            Err(error) => format!("cannot show this: {error}\n"),
        }
    }

    /// Shows the value in the evcxr Jupyter kernel: what a cell does with its last expression.
    fn evcxr_display(&self) {
        print_flushed(&self.evcxr_text());
    }
}

/// The framing evcxr reads from a cell's output: one MIME type, then the content.
fn evcxr_content(mime_type: &str, content: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT {mime_type}\n{content}\nEVCXR_END_CONTENT\n")
}

/// Prints at once: evcxr reads the output as it comes.
pub(crate) fn print_flushed(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Text made safe to put inside HTML.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeatError;

    struct Twice(Result<&'static str>);

    impl Show for Twice {
        fn mime_bundle(&self) -> Result<Vec<Representation>> {
            let text = self.0.clone()?;
            Ok(vec![
                Representation::new("text/plain", text),
                Representation::new("text/html", format!("<b>{}</b>", escape(text))),
            ])
        }
    }

    #[test]
    fn every_representation_is_framed_for_evcxr() {
        assert_eq!(
            Twice(Ok("a < b")).evcxr_text(),
            "EVCXR_BEGIN_CONTENT text/plain\na < b\nEVCXR_END_CONTENT\n\
             EVCXR_BEGIN_CONTENT text/html\n<b>a &lt; b</b>\nEVCXR_END_CONTENT\n"
        );
    }

    #[test]
    fn a_value_that_cannot_be_shown_says_why() {
        let failed = Twice(Err(HeatError::NoRepeats)).evcxr_text();
        assert!(failed.starts_with("cannot show this: "), "{failed}");
        assert!(!failed.contains("EVCXR_BEGIN_CONTENT"), "{failed}");
    }
}
