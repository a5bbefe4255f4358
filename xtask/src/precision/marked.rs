//! Reading a precision report back once a person has ticked its boxes.
//!
//! A sample is a `#### ` section. Inside it, outside fenced code blocks
//! (where excerpts live), the lines `- [x] right` / `- [x] wrong` (`[X]`
//! too, `[ ]` when not ticked) are the marks and `<!-- sample {json} -->`
//! is the data. Everything else in the file is left to people.

use super::Sample;

/// What a person said about a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The finding is a real problem.
    Right,
    /// The finding is a false alarm.
    Wrong,
}

/// One `#### ` section of a marked report.
#[derive(Debug)]
pub(super) struct Marked {
    /// The section's heading (the gap id, as the report wrote it).
    pub(super) heading: String,
    /// Whether `right` is ticked.
    pub(super) right: bool,
    /// Whether `wrong` is ticked.
    pub(super) wrong: bool,
    /// The sample line's data, or why it could not be read.
    pub(super) sample: Result<Sample, String>,
}

impl Marked {
    /// The verdict when exactly one box is ticked; otherwise why there is none.
    pub(super) fn verdict(&self) -> Result<Verdict, &'static str> {
        match (self.right, self.wrong) {
            (true, false) => Ok(Verdict::Right),
            (false, true) => Ok(Verdict::Wrong),
            (false, false) => Err("no box ticked"),
            (true, true) => Err("both boxes ticked"),
        }
    }
}

/// Every sample section of a marked report, in file order.
pub(super) fn parse(text: &str) -> Vec<Marked> {
    let mut found = Vec::new();
    let mut current: Option<Marked> = None;
    // The open fence: its character and length.
    let mut fence: Option<(char, usize)> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some((c, n)) = fence {
            if fence_run(trimmed).is_some_and(|(d, m)| d == c && m >= n)
                && trimmed.chars().all(|x| x == c)
            {
                fence = None;
            }
            continue;
        }
        if let Some(open) = fence_run(trimmed) {
            fence = Some(open);
            continue;
        }
        if let Some(heading) = line.strip_prefix("#### ") {
            found.extend(current.take());
            current = Some(Marked {
                heading: heading.trim().to_owned(),
                right: false,
                wrong: false,
                sample: Err("no `<!-- sample {json} -->` line".to_owned()),
            });
            continue;
        }
        if line.starts_with('#') && heading_level(line).is_some_and(|level| level < 4) {
            found.extend(current.take());
            continue;
        }
        let Some(marked) = current.as_mut() else {
            continue;
        };
        if let Some((ticked, label)) = checkbox(trimmed) {
            match label {
                "right" => marked.right = ticked,
                _ => marked.wrong = ticked,
            }
        } else if let Some(json) = trimmed
            .strip_prefix("<!-- sample ")
            .and_then(|rest| rest.strip_suffix("-->"))
        {
            marked.sample = Sample::from_json(json.trim());
        }
    }
    found.extend(current);
    found
}

/// The level of an ATX heading (`## x` is 2).
fn heading_level(line: &str) -> Option<usize> {
    let level = line.chars().take_while(|&c| c == '#').count();
    let rest = &line[level..];
    ((1..=6).contains(&level) && (rest.is_empty() || rest.starts_with(' '))).then_some(level)
}

/// The fence character and length a line opens or closes a fenced code
/// block with (three or more backticks or tildes).
fn fence_run(trimmed: &str) -> Option<(char, usize)> {
    let c = trimmed.chars().next().filter(|&c| c == '`' || c == '~')?;
    let n = trimmed.chars().take_while(|&x| x == c).count();
    (n >= 3).then_some((c, n))
}

/// `- [x] right` and friends: whether ticked, and the label.
fn checkbox(trimmed: &str) -> Option<(bool, &str)> {
    let rest = trimmed
        .strip_prefix("- [")
        .or_else(|| trimmed.strip_prefix("* ["))?;
    let mut chars = rest.chars();
    let mark = chars.next()?;
    let label = chars.as_str().strip_prefix("] ")?.trim();
    let ticked = match mark {
        'x' | 'X' => true,
        ' ' => false,
        _ => return None,
    };
    matches!(label, "right" | "wrong").then_some((ticked, label))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"repo":"r","head":"h","gap_id":"g1","detector":"d","file_paths":["a.md"],"locations":[],"extra":{"target":"x\u003e.md"},"confidence":"likely"}"#;

    #[test]
    fn marks_and_data_are_read_outside_fences_only() {
        let text = format!(
            "# Report\n\n## repo\n\n### d: 2 of 2 findings\n\n#### g1\n\n- [X] right\n- [ ] wrong\n\n\
             <!-- sample {SAMPLE} -->\n\n- excerpt of `a.md:1`:\n\n  ````text\n  - [x] wrong\n  \
             <!-- sample {{}} -->\n  ```\n  ````\n\n#### g2\n\n- [x] right\n- [x] wrong\n\n\
             ## other\n\n- [x] wrong\n"
        );
        let marked = parse(&text);
        assert_eq!(marked.len(), 2);
        assert_eq!(marked[0].heading, "g1");
        assert_eq!(marked[0].verdict(), Ok(Verdict::Right));
        let sample = marked[0].sample.as_ref().expect("sample");
        assert_eq!(sample.gap_id, "g1");
        assert_eq!(sample.extra_str("target"), Some("x>.md"));
        assert_eq!(marked[1].verdict(), Err("both boxes ticked"));
        assert!(marked[1].sample.is_err());
    }

    #[test]
    fn only_x_ticks_a_box() {
        assert_eq!(checkbox("- [x] right"), Some((true, "right")));
        assert_eq!(checkbox("- [ ] wrong"), Some((false, "wrong")));
        assert_eq!(checkbox("- [v] wrong"), None);
        assert_eq!(checkbox("- [x] maybe"), None);
    }
}
