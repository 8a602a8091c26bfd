//! `heat predictions`: the webinar's predictions as polls, answered by the presenter's own machine.
//!
//! Each prediction the core path asks before a timing (a notebook cell tagged `predict:ID`) is
//! listed here with the answers it offers, as ranges of one measured ratio: how many times
//! faster one `heat bench --json` row ran than another. Before the session:
//!
//! ```text
//! heat bench --size small,large --with-python --json today.json
//! heat predictions --from today.json
//! ```
//!
//! prints every poll with the answer this machine gives marked, so the presenter knows what
//! the room is about to see. The notebook's own options must be these (a test compares them).

use std::path::PathBuf;

use clap::Args;
use heatlib::benchmark::Language;
use heatlib::{BenchRow, format_ratio};
use serde::Serialize;

#[derive(Args)]
pub struct PredictionsArgs {
    /// `heat bench --json` files to answer from (give it once per file; their rows are joined)
    #[arg(long = "from", value_name = "BENCH_JSON")]
    from: Vec<PathBuf>,
    /// Print the polls as JSON (id, notebook, question, options, the rows compared, the answer)
    #[arg(long)]
    json: bool,
}

/// One bench row, as a prediction names it.
#[derive(Clone, Copy, Serialize)]
struct RowName {
    stage: &'static str,
    language: Language,
    size: &'static str,
}

/// An answer a room can vote for: the ratio lies below `below` (and at or above the option
/// before it).
#[derive(Clone, Copy, Serialize)]
struct Choice {
    label: &'static str,
    below: f64,
}

/// A prediction: how many times the speed of `speed_of` is the speed of `over` (cell updates
/// per second), with its choices in rising order.
#[derive(Serialize)]
struct Prediction {
    id: &'static str,
    notebook: &'static str,
    question: &'static str,
    speed_of: RowName,
    over: RowName,
    choices: &'static [Choice],
}

const fn rust(stage: &'static str, size: &'static str) -> RowName {
    RowName {
        stage,
        language: Language::Rust,
        size,
    }
}

const fn python(stage: &'static str, size: &'static str) -> RowName {
    RowName {
        stage,
        language: Language::Python,
        size,
    }
}

const fn choice(label: &'static str, below: f64) -> Choice {
    Choice { label, below }
}

/// The polls of the core path that `heat bench` answers, in the order the notebooks ask them.
/// (The others, such as a debug build's slowdown, are measured by the cell after them only.)
const PREDICTIONS: &[Prediction] = &[
    Prediction {
        id: "interpreter-vs-compiled",
        notebook: "01",
        question: "how many times faster than CPython's loop is the same loop compiled?",
        speed_of: rust("typed_checked", "small"),
        over: python("python_loops", "small"),
        choices: &[
            choice("under 5x", 5.0),
            choice("5 to 50x", 50.0),
            choice("50 to 500x", 500.0),
            choice("more than 500x", f64::INFINITY),
        ],
    },
    Prediction {
        id: "typed-vs-interpreted",
        notebook: "03",
        question: "how many times faster than the interpreter will the checked loop run?",
        speed_of: rust("typed_checked", "small"),
        over: rust("interpreted", "small"),
        choices: &[
            choice("under 3x", 3.0),
            choice("3 to 30x", 30.0),
            choice("30 to 300x", 300.0),
            choice("over 300x", f64::INFINITY),
        ],
    },
    Prediction {
        id: "zip-vs-slices",
        notebook: "03",
        question: "how will the whole-array step (one pass with Zip) compare with rows as slices?",
        speed_of: rust("typed", "small"),
        over: rust("vectorized", "small"),
        choices: &[
            choice("faster", 1.0),
            choice("up to 2.5x slower", 2.5),
            choice("2.5 to 7x slower", 7.0),
            choice("over 7x slower", f64::INFINITY),
        ],
    },
    Prediction {
        id: "convolve-vs-whole-array",
        notebook: "03",
        question: "the convolution is compiled code too: how will it compare with the whole-array step?",
        speed_of: rust("vectorized", "small"),
        over: rust("convolve", "small"),
        choices: &[
            choice("faster", 1.0),
            choice("up to 1.5x slower", 1.5),
            choice("1.5 to 10x slower", 10.0),
            choice("over 10x slower", f64::INFINITY),
        ],
    },
    Prediction {
        id: "threads-small-plate",
        notebook: "03",
        question: "on the small plate, how much faster will parallel_rows run than typed?",
        speed_of: rust("parallel_rows", "small"),
        over: rust("typed", "small"),
        choices: &[
            choice("slower, or under 1.3x faster", 1.3),
            choice("1.3 to 1.8x faster", 1.8),
            choice("over 1.8x faster", f64::INFINITY),
        ],
    },
    Prediction {
        id: "typed-vs-numba",
        notebook: "03",
        question: "Numba compiles the same loop to machine code: how will typed compare with Numba @njit?",
        speed_of: rust("typed", "small"),
        over: python("numba", "small"),
        choices: &[
            choice("Numba over 2x faster", 0.5),
            choice("within 2x either way", 2.0),
            choice("Rust 2 to 10x faster", 10.0),
            choice("Rust over 10x faster", f64::INFINITY),
        ],
    },
];

/// What a poll's answer is on this machine: the ratio and the choice it falls in.
#[derive(Serialize)]
struct Answer {
    ratio: f64,
    label: &'static str,
}

#[derive(Serialize)]
struct Poll<'a> {
    #[serde(flatten)]
    prediction: &'a Prediction,
    answer: Option<Answer>,
    unanswered_because: Option<String>,
}

fn find<'a>(rows: &'a [BenchRow], name: &RowName) -> Option<&'a BenchRow> {
    rows.iter().find(|row| {
        row.stage == name.stage
            && row.language == name.language
            && row.size.as_deref() == Some(name.size)
    })
}

fn describe(name: &RowName) -> String {
    let language = match name.language {
        Language::Rust => "",
        Language::Python => " (Python)",
    };
    format!("{}{language} on the {} plate", name.stage, name.size)
}

fn answer(prediction: &Prediction, rows: &[BenchRow]) -> Result<Answer, String> {
    let missing = |name: &RowName| format!("no row for {} in the bench files", describe(name));
    let speed_of = find(rows, &prediction.speed_of).ok_or_else(|| missing(&prediction.speed_of))?;
    let over = find(rows, &prediction.over).ok_or_else(|| missing(&prediction.over))?;
    let ratio = speed_of.mcells_per_s / over.mcells_per_s;
    let label = prediction
        .choices
        .iter()
        .find(|choice| ratio < choice.below)
        .map_or("none of them", |choice| choice.label);
    Ok(Answer { ratio, label })
}

fn polls(rows: &[BenchRow]) -> Vec<Poll<'static>> {
    PREDICTIONS
        .iter()
        .map(|prediction| match answer(prediction, rows) {
            Ok(answer) => Poll {
                prediction,
                answer: Some(answer),
                unanswered_because: None,
            },
            Err(why) => Poll {
                prediction,
                answer: None,
                unanswered_because: Some(why),
            },
        })
        .collect()
}

/// The largest `heat bench --json` file read: tens of thousands of rows.
const BENCH_JSON_LIMIT: u64 = 64 << 20;

fn read_rows(paths: &[PathBuf]) -> Result<Vec<BenchRow>, String> {
    let mut rows = Vec::new();
    for path in paths {
        let text = heatlib::read_text(path, BENCH_JSON_LIMIT, "heat bench --json output")
            .map_err(|e| format!("{e} (write it with heat bench --json FILE)"))?;
        let read: Vec<BenchRow> = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not heat bench --json output: {e}", path.display()))?;
        rows.extend(read);
    }
    Ok(rows)
}

pub fn predictions(args: &PredictionsArgs) -> Result<(), String> {
    let rows = read_rows(&args.from)?;
    let polls = polls(&rows);
    if args.json {
        let text = serde_json::to_string_pretty(&polls).map_err(|e| e.to_string())?;
        println!("{text}");
        return Ok(());
    }
    for poll in &polls {
        let prediction = poll.prediction;
        println!(
            "[{}] notebook {}: {}",
            prediction.id, prediction.notebook, prediction.question
        );
        for choice in prediction.choices {
            let chosen = poll
                .answer
                .as_ref()
                .is_some_and(|answer| answer.label == choice.label);
            println!("  {} {}", if chosen { "->" } else { "  " }, choice.label);
        }
        match (&poll.answer, &poll.unanswered_because) {
            (Some(answer), _) => println!(
                "  measured: {} runs at {} the speed of {}\n",
                describe(&prediction.speed_of),
                format_ratio(answer.ratio),
                describe(&prediction.over)
            ),
            (None, Some(why)) if args.from.is_empty() => {
                println!("  (no answer: give --from with heat bench --json output; {why})\n")
            }
            (None, why) => println!("  (no answer: {})\n", why.as_deref().unwrap_or("")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(stage: &str, language: Language, size: &str, mcells_per_s: f64) -> BenchRow {
        let json = serde_json::json!({
            "stage": stage, "language": language, "python_analog": "", "size": size,
            "nx": 50, "nt": 1000, "gamma": 0.25, "history": "final", "repeat": 1,
            "median_s": 1.0, "min_s": 1.0, "max_s": 1.0, "mean_s": 1.0, "std_s": 0.0,
            "runs_s": [1.0], "setup_median_s": 0.0, "cell_updates": 1, "first_run_s": 1.0,
            "mcells_per_s": mcells_per_s,
        });
        serde_json::from_value(json).expect("a bench row")
    }

    fn poll<'a>(polls: &'a [Poll<'a>], id: &str) -> &'a Poll<'a> {
        polls
            .iter()
            .find(|poll| poll.prediction.id == id)
            .expect("the prediction is listed")
    }

    #[test]
    fn each_ratio_falls_in_the_choice_whose_range_holds_it() {
        let rows = [
            row("interpreted", Language::Rust, "small", 2.0),
            row("typed", Language::Rust, "small", 2000.0),
            row("typed_checked", Language::Rust, "small", 50.0),
            row("vectorized", Language::Rust, "small", 2000.0),
            row("numba", Language::Python, "small", 800.0),
            row("python_loops", Language::Python, "small", 0.5),
            // Rows of another size or language must not be taken for these.
            row("typed", Language::Python, "small", 1.0),
            row("interpreted", Language::Rust, "large", 1000.0),
            row("python_loops", Language::Python, "large", 1000.0),
        ];
        let polls = polls(&rows);
        let answered = |id| poll(&polls, id).answer.as_ref().expect("answered");
        assert_eq!(answered("interpreter-vs-compiled").label, "50 to 500x");
        assert_eq!(answered("interpreter-vs-compiled").ratio, 100.0);
        assert_eq!(answered("typed-vs-interpreted").label, "3 to 30x");
        // Exactly on a boundary: the upper choice (each range holds its lower end).
        assert_eq!(answered("zip-vs-slices").label, "up to 2.5x slower");
        assert_eq!(answered("typed-vs-numba").label, "Rust 2 to 10x faster");
    }

    #[test]
    fn a_missing_row_leaves_the_poll_unanswered_and_says_which() {
        let polls = polls(&[row("typed", Language::Rust, "small", 2000.0)]);
        let unanswered = poll(&polls, "convolve-vs-whole-array");
        assert!(unanswered.answer.is_none());
        let why = unanswered.unanswered_because.as_deref().unwrap_or_default();
        assert!(why.contains("vectorized on the small plate"), "{why}");
    }

    #[test]
    fn choices_rise_and_end_open() {
        for prediction in PREDICTIONS {
            let bounds: Vec<f64> = prediction
                .choices
                .iter()
                .map(|choice| choice.below)
                .collect();
            assert!(
                bounds.windows(2).all(|pair| pair[0] < pair[1]),
                "{}",
                prediction.id
            );
            assert_eq!(bounds.last(), Some(&f64::INFINITY), "{}", prediction.id);
        }
    }
}
