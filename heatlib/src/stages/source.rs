//! A stage's source, as compiled into the library: to read the whole of a stage from a notebook.

/// Some Rust source, from one of heatlib's files.
///
/// ```
/// use heatlib::Stage;
/// let source = Stage::Parallel.source();
/// assert!(source.text.contains("fn march_band"));
/// let band = source.function("march_band").expect("parallel marches bands");
/// assert!(band.text.starts_with("/// Marches one band of plate rows"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceCode {
    /// The file it comes from, relative to the repository.
    pub path: String,
    /// The text itself.
    pub text: String,
}

impl SourceCode {
    /// The time loop every serial stage (and every step of yours) runs through:
    /// `march` in `heatlib/src/solver.rs`.
    pub fn time_loop() -> SourceCode {
        let solver = SourceCode {
            path: "heatlib/src/solver.rs".into(),
            text: include_str!("../solver.rs").into(),
        };
        // The file is compiled in with this function, so `march` is there; the whole file otherwise.
        solver.function("march").unwrap_or(solver)
    }

    /// The interpreter the `interpreted` stage runs its rule through (a
    /// tokenizer, a parser and an evaluator): `heatlib/src/interpreter/mod.rs`,
    /// whose parser is beside it in `parse.rs`.
    pub fn interpreter() -> SourceCode {
        SourceCode {
            path: "heatlib/src/interpreter/mod.rs".into(),
            text: include_str!("../interpreter/mod.rs").into(),
        }
    }

    /// One function of the file, with the comments and attributes just above it;
    /// `None` if the file has no `fn name`. heatlib's files are formatted by rustfmt, which
    /// puts a function's closing brace alone on a line at the function's own indentation:
    /// the first such line after the signature ends it.
    pub fn function(&self, name: &str) -> Option<SourceCode> {
        let lines: Vec<&str> = self.text.lines().collect();
        let start = lines.iter().position(|line| {
            let code = line.trim_start();
            [format!("fn {name}("), format!("fn {name}<")]
                .iter()
                .any(|head| code.contains(head.as_str()) && !code.starts_with("//"))
        })?;
        let indent = lines[start].len() - lines[start].trim_start().len();
        let first = (0..start)
            .rev()
            .take_while(|&i| {
                let code = lines[i].trim_start();
                code.starts_with("///") || code.starts_with("#[")
            })
            .last()
            .unwrap_or(start);
        let closing = format!("{}}}", " ".repeat(indent));
        let last = (start..lines.len()).find(|&i| lines[i] == closing)?;
        Some(SourceCode {
            path: format!("{} (fn {name})", self.path),
            text: lines[first..=last]
                .iter()
                .map(|line| &line[indent.min(line.len() - line.trim_start().len())..])
                .collect::<Vec<_>>()
                .join("\n"),
        })
    }

    /// Lines in the text.
    pub fn line_count(&self) -> usize {
        self.text.lines().count()
    }
}

impl SourceCode {
    /// The text as Markdown: its file and length, then a fenced `rust` code block, which
    /// JupyterLab, the docs site and the slides each highlight with their own highlighter.
    pub fn to_markdown(&self) -> String {
        // A fence longer than any run of backticks in the text, so that none closes it early.
        let longest = self
            .text
            .split(|character| character != '`')
            .map(str::len)
            .max()
            .unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        format!(
            "`{}`, {} lines\n\n{fence}rust\n{}\n{fence}\n",
            self.path,
            self.line_count(),
            self.text
        )
    }
}

impl crate::show::Show for SourceCode {
    fn mime_bundle(&self) -> crate::error::Result<Vec<crate::show::Representation>> {
        Ok(vec![
            crate::show::Representation::new("text/plain", self.text.clone()),
            crate::show::Representation::new("text/markdown", self.to_markdown()),
        ])
    }
}

#[cfg(all(test, feature = "display"))]
mod tests {
    use super::*;

    #[test]
    fn markdown_fences_the_text_as_rust_and_no_backtick_run_closes_it() {
        let source = SourceCode {
            path: "x.rs".into(),
            text: "/// Uses ```text``` in a doc comment.\nfn a() {}".into(),
        };
        let markdown = source.to_markdown();
        assert!(
            markdown.starts_with("`x.rs`, 2 lines\n\n````rust\n"),
            "{markdown}"
        );
        assert!(markdown.ends_with("fn a() {}\n````\n"), "{markdown}");
    }

    #[test]
    fn the_interpreter_shows_its_evaluator() {
        let evaluate = SourceCode::interpreter().function("evaluate").unwrap();
        assert!(
            evaluate.text.contains("Expression::Binary"),
            "{}",
            evaluate.text
        );
    }

    #[test]
    fn the_time_loop_is_the_loop() {
        let time_loop = SourceCode::time_loop();
        assert!(time_loop.path.ends_with("(fn march)"), "{}", time_loop.path);
        assert!(
            time_loop
                .text
                .contains("let (current, mut next) = buffers.pair(level);")
        );
        assert!(time_loop.line_count() < 25, "{}", time_loop.text);
    }

    #[test]
    fn a_function_comes_with_its_doc_comment_and_ends_at_its_brace() {
        let source = SourceCode {
            path: "x.rs".into(),
            text: "fn a() {}\n\n/// Says b.\n#[inline]\npub fn b(x: u8) -> u8 {\n    x\n}\nfn c() {}\n".into(),
        };
        let b = source.function("b").unwrap();
        assert_eq!(
            b.text,
            "/// Says b.\n#[inline]\npub fn b(x: u8) -> u8 {\n    x\n}"
        );
        assert!(source.function("nothing").is_none());
    }
}
