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
    /// `time_loop` in `heatlib/src/solver.rs`.
    pub fn time_loop() -> SourceCode {
        let solver = SourceCode {
            path: "heatlib/src/solver.rs".into(),
            text: include_str!("../solver.rs").into(),
        };
        // The file is compiled in with this function, so `time_loop` is there; the whole file otherwise.
        solver.function("time_loop").unwrap_or(solver)
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
    /// `None` if the file has no `fn name`.
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
    /// The text as HTML, comments, keywords and strings coloured.
    pub fn to_html(&self) -> String {
        format!(
            "<details class=\"heat-source\" open><summary><code>{}</code>, {} lines</summary>\
             <pre style=\"font-size:12px;line-height:1.35\">{}</pre></details>\n",
            crate::show::escape(&self.path),
            self.line_count(),
            highlight(&self.text)
        )
    }
}

impl crate::show::Show for SourceCode {
    fn mime_bundle(&self) -> crate::error::Result<Vec<crate::show::Representation>> {
        Ok(vec![
            crate::show::Representation::new("text/plain", self.text.clone()),
            crate::show::Representation::new("text/html", self.to_html()),
        ])
    }
}

/// Rust's keywords, coloured in [`highlight`].
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while",
];

/// A small highlighter, enough to read a stage: comments, string literals and keywords.
fn highlight(text: &str) -> String {
    use crate::show::escape;
    let mut html = String::new();
    for line in text.lines() {
        let (code, comment) = match comment_start(line) {
            Some(at) => line.split_at(at),
            None => (line, ""),
        };
        let mut word = String::new();
        let mut in_string = false;
        let flush = |word: &mut String, html: &mut String| {
            if KEYWORDS.contains(&word.as_str()) {
                html.push_str(&format!(
                    "<span style=\"color:#8959a8;font-weight:bold\">{word}</span>"
                ));
            } else {
                html.push_str(&escape(word));
            }
            word.clear();
        };
        for character in code.chars() {
            if in_string {
                word.push(character);
                if character == '"' {
                    html.push_str(&format!(
                        "<span style=\"color:#718c00\">{}</span>",
                        escape(&word)
                    ));
                    word.clear();
                    in_string = false;
                }
            } else if character == '"' {
                flush(&mut word, &mut html);
                word.push(character);
                in_string = true;
            } else if character.is_alphanumeric() || character == '_' {
                word.push(character);
            } else {
                flush(&mut word, &mut html);
                html.push_str(&escape(&character.to_string()));
            }
        }
        if in_string {
            html.push_str(&format!(
                "<span style=\"color:#718c00\">{}</span>",
                escape(&word)
            ));
        } else {
            flush(&mut word, &mut html);
        }
        if !comment.is_empty() {
            html.push_str(&format!(
                "<span style=\"color:#8e908c\">{}</span>",
                escape(comment)
            ));
        }
        html.push('\n');
    }
    html
}

/// Where a `//` comment starts on `line`, outside string literals.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut in_string = false;
    for at in 0..bytes.len() {
        match bytes[at] {
            b'"' if at == 0 || bytes[at - 1] != b'\\' => in_string = !in_string,
            b'/' if !in_string && bytes.get(at + 1) == Some(&b'/') => return Some(at),
            _ => {}
        }
    }
    None
}

#[cfg(all(test, feature = "display"))]
mod tests {
    use super::*;

    #[test]
    fn comments_strings_and_keywords_are_coloured_apart() {
        let html = highlight("let s = \"// not a comment\"; // a comment <here>");
        assert!(html.contains("font-weight:bold\">let</span>"), "{html}");
        assert!(
            html.contains("#718c00\">&quot;// not a comment&quot;</span>")
                || html.contains("#718c00\">\"// not a comment\"</span>"),
            "{html}"
        );
        assert!(
            html.contains("#8e908c\">// a comment &lt;here&gt;</span>"),
            "{html}"
        );
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
        assert!(
            time_loop.path.ends_with("(fn time_loop)"),
            "{}",
            time_loop.path
        );
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
