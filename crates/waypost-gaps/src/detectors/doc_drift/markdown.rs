//! Every reference a Markdown document makes to another file, as a
//! CommonMark reader sees it: inline links and images, reference
//! definitions, `<a href>` and `<img src>` in HTML, and code spans. Text in
//! code blocks and code spans is never a link.

use std::ops::Range;
use std::sync::LazyLock;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use regex::Regex;

/// What kind of construct a [`Reference`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// `[text](dest)`.
    Link,
    /// `![alt](dest)`.
    Image,
    /// `[label]: dest`, used or not.
    Definition,
    /// `<a href="dest">` or `<img src="dest">`, in an HTML block or inline.
    Html,
    /// `` `text` ``: a candidate path, judged by the caller.
    CodeSpan,
}

/// One reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Reference {
    pub(super) kind: Kind,
    /// The destination as a renderer reads it: backslash escapes and
    /// entities processed, angle brackets removed; not percent-decoded.
    /// For a code span, its content.
    pub(super) dest: String,
    /// Where the destination is written in the document (byte range, angle
    /// brackets excluded), when it could be found; otherwise `None`.
    pub(super) written: Option<Range<usize>>,
    /// Byte offset of the construct, for its line when `written` is unknown.
    pub(super) start: usize,
}

/// The references in `text`, in no particular order.
pub(super) fn references(text: &str) -> Vec<Reference> {
    // GitHub-flavoured extensions change what is a paragraph (tables) or
    // not Markdown at all (front matter); math is left off, as most
    // renderers of repository documents do.
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS;
    let parser = Parser::new_ext(text, options);
    let mut found = Vec::new();
    // Every definition, used or not: each is checked once, where it is
    // written, and the links that use it are not checked again.
    for (_, def) in parser.reference_definitions().iter() {
        let span = def.span.clone();
        found.push(Reference {
            kind: Kind::Definition,
            dest: def.dest.to_string(),
            written: text
                .get(span.clone())
                .and_then(definition_destination)
                .map(|r| r.start + span.start..r.end + span.start),
            start: span.start,
        });
    }
    let mut html_block: Option<Range<usize>> = None;
    for (event, range) in parser.into_offset_iter() {
        match &event {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            })
            | Event::Start(Tag::Image {
                link_type,
                dest_url,
                ..
            }) => {
                // Reference links are checked at their definition;
                // autolinks always carry a scheme (see `links::target`).
                if *link_type != LinkType::Inline {
                    continue;
                }
                let kind = if matches!(event, Event::Start(Tag::Image { .. })) {
                    Kind::Image
                } else {
                    Kind::Link
                };
                found.push(Reference {
                    kind,
                    dest: dest_url.to_string(),
                    written: text
                        .get(range.clone())
                        .and_then(inline_destination)
                        .map(|r| r.start + range.start..r.end + range.start),
                    start: range.start,
                });
            }
            Event::Code(content) => {
                // The source is `` `content` ``, maybe with longer fences
                // and a padding space; a span across lines reads its line
                // end as a space and is not found as written.
                let written = text
                    .get(range.clone())
                    .and_then(|source| source.find(content.as_ref()))
                    .map(|at| range.start + at..range.start + at + content.len());
                found.push(Reference {
                    kind: Kind::CodeSpan,
                    dest: content.to_string(),
                    written,
                    start: range.start,
                });
            }
            // An HTML block arrives a line at a time: read it whole, so a
            // tag or a comment across lines is seen as one.
            Event::Start(Tag::HtmlBlock) => html_block = Some(range),
            Event::Html(_) if html_block.is_some() => {}
            Event::End(TagEnd::HtmlBlock) => {
                if let Some(block) = html_block.take() {
                    html_references(text, block, &mut found);
                }
            }
            Event::Html(_) | Event::InlineHtml(_) => html_references(text, range, &mut found),
            _ => {}
        }
    }
    found
}

static HTML_TAG: LazyLock<Regex> = LazyLock::new(|| {
    // `<a` or `<img` then a word boundary, so `<abbr>` and `<image>` are not taken.
    Regex::new(r"(?is)<(a|img)\b[^>]*>").expect("literal")
});
static HTML_ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?is)\s(href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))"#)
        .expect("literal")
});
static HTML_COMMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)<!--.*?(?:-->|\z)").expect("literal"));

/// The `href` of each `<a>` and `src` of each `<img>` in `text[range]`,
/// outside HTML comments.
fn html_references(text: &str, range: Range<usize>, found: &mut Vec<Reference>) {
    let Some(html) = text.get(range.clone()) else {
        return;
    };
    let comments: Vec<Range<usize>> = HTML_COMMENT.find_iter(html).map(|m| m.range()).collect();
    for tag in HTML_TAG.captures_iter(html) {
        let Some(whole) = tag.get(0) else { continue };
        if comments.iter().any(|c| c.contains(&whole.start())) {
            continue;
        }
        let wanted = if tag[1].eq_ignore_ascii_case("a") {
            "href"
        } else {
            "src"
        };
        let Some(attribute) = HTML_ATTRIBUTE
            .captures_iter(whole.as_str())
            .find(|a| a[1].eq_ignore_ascii_case(wanted))
        else {
            continue;
        };
        let Some(value) = attribute
            .get(2)
            .or_else(|| attribute.get(3))
            .or_else(|| attribute.get(4))
        else {
            continue;
        };
        let at = range.start + whole.start() + value.start();
        found.push(Reference {
            kind: Kind::Html,
            dest: decode_entities(value.as_str()),
            written: Some(at..at + value.len()),
            start: at,
        });
    }
}

/// The character references a path in an attribute may carry (`&amp;`,
/// `&#32;`, `&#x20;` and the quotes); others are left as written.
fn decode_entities(value: &str) -> String {
    if !value.contains('&') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "lt" => Some('<'),
                "gt" => Some('>'),
                _ => match name.strip_prefix('#') {
                    Some(hex) if hex.starts_with(['x', 'X']) => u32::from_str_radix(&hex[1..], 16)
                        .ok()
                        .and_then(char::from_u32),
                    Some(decimal) => decimal.parse().ok().and_then(char::from_u32),
                    None => None,
                },
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// In the source of an inline link or image (`[text](dest "title")`), the
/// range of `dest` as written, angle brackets excluded: the last `](` from
/// which a destination, an optional title and the closing `)` reach exactly
/// the end.
fn inline_destination(link: &str) -> Option<Range<usize>> {
    if !link.ends_with(')') {
        return None;
    }
    let mut search_end = link.len();
    while let Some(open) = link[..search_end].rfind("](") {
        if let Some(dest) = destination_then_close(link, open + 2) {
            return Some(dest);
        }
        search_end = open;
    }
    None
}

fn destination_then_close(link: &str, start: usize) -> Option<Range<usize>> {
    let (dest, after) = destination(link, skip_space(link, start))?;
    let mut at = skip_space(link, after);
    if let Some(end) = title(link, at) {
        at = skip_space(link, end);
    }
    (at + 1 == link.len() && link.as_bytes()[at] == b')').then_some(dest)
}

/// In the source of a reference definition (`[label]: dest "title"`), the
/// range of `dest` as written, angle brackets excluded.
fn definition_destination(def: &str) -> Option<Range<usize>> {
    let bytes = def.as_bytes();
    let mut at = def.find('[')? + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b']' => break,
            _ => at += 1,
        }
    }
    if bytes.get(at + 1) != Some(&b':') {
        return None;
    }
    destination(def, skip_space(def, at + 2)).map(|(dest, _)| dest)
}

/// A link destination at `start` (CommonMark: `<...>` on one line, or a
/// run without spaces and with balanced parentheses): its range without
/// the angle brackets, and where it ends.
fn destination(text: &str, start: usize) -> Option<(Range<usize>, usize)> {
    let bytes = text.as_bytes();
    if bytes.get(start) == Some(&b'<') {
        let mut at = start + 1;
        while at < bytes.len() {
            match bytes[at] {
                b'\\' => at += 2,
                b'>' => return Some((start + 1..at, at + 1)),
                b'\n' | b'<' => return None,
                _ => at += 1,
            }
        }
        return None;
    }
    let mut depth = 0u32;
    let mut at = start;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' if bytes.get(at + 1).is_some_and(u8::is_ascii_punctuation) => at += 2,
            b'(' => {
                depth += 1;
                at += 1;
            }
            b')' if depth == 0 => break,
            b')' => {
                depth -= 1;
                at += 1;
            }
            c if c.is_ascii_whitespace() || c.is_ascii_control() => break,
            _ => at += 1,
        }
    }
    let at = at.min(bytes.len());
    Some((start..at, at))
}

/// The end of a link title (`"…"`, `'…'` or `(…)`) starting at `start`.
fn title(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let close = match bytes.get(start)? {
        b'"' => b'"',
        b'\'' => b'\'',
        b'(' => b')',
        _ => return None,
    };
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            c if c == close => return Some(at + 1),
            _ => at += 1,
        }
    }
    None
}

/// `start` moved past spaces, tabs and line ends.
fn skip_space(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut at = start;
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (kind, dest, the text at `written`) of every reference, sorted.
    fn seen(text: &str) -> Vec<(Kind, String, Option<String>)> {
        let mut all: Vec<_> = references(text)
            .into_iter()
            .map(|r| {
                let written = r.written.map(|w| text[w].to_owned());
                (r.kind, r.dest, written)
            })
            .collect();
        all.sort_by(|a, b| (a.1.as_str(), &a.2).cmp(&(b.1.as_str(), &b.2)));
        all
    }

    fn one(kind: Kind, dest: &str, written: &str) -> (Kind, String, Option<String>) {
        (kind, dest.to_owned(), Some(written.to_owned()))
    }

    #[test]
    fn links_images_and_definitions_with_where_they_are_written() {
        let text = "[a](a.md) ![b](<b c.png> \"t\") [c](x\\(1\\).md 'q') [d](p(1).md)\n\n\
                    [used][r] [e][]\n\n[r]: <r s.md> \"title\"\n[e]:\n  e.md\n[unused]: u%20v.md\n";
        assert_eq!(
            seen(text),
            [
                one(Kind::Link, "a.md", "a.md"),
                one(Kind::Image, "b c.png", "b c.png"),
                one(Kind::Definition, "e.md", "e.md"),
                one(Kind::Link, "p(1).md", "p(1).md"),
                one(Kind::Definition, "r s.md", "r s.md"),
                one(Kind::Definition, "u%20v.md", "u%20v.md"),
                one(Kind::Link, "x(1).md", "x\\(1\\).md"),
            ]
        );
    }

    #[test]
    fn code_is_never_a_link() {
        let text = "```\n[a](fenced.md)\n```\n\n    [b](indented.md)\n\n`[c](inline.md)` and ``<a href=\"x.md\">``\n\n~~~md\n<img src=\"y.png\">\n~~~\n";
        assert_eq!(
            seen(text),
            [
                one(Kind::CodeSpan, "<a href=\"x.md\">", "<a href=\"x.md\">"),
                one(Kind::CodeSpan, "[c](inline.md)", "[c](inline.md)"),
            ]
        );
    }

    #[test]
    fn html_anchors_and_images_inline_and_in_blocks() {
        let text = "Text <a href=\"in&amp;line.md\">x</a> and <img alt='' src='i.png'>.\n\n\
                    <div>\n<a\n  href=docs/block.md>y</a>\n<!-- <a href=\"commented.md\"> -->\n<abbr href=\"no.md\">\n</div>\n";
        assert_eq!(
            seen(text),
            [
                one(Kind::Html, "docs/block.md", "docs/block.md"),
                one(Kind::Html, "i.png", "i.png"),
                one(Kind::Html, "in&line.md", "in&amp;line.md"),
            ]
        );
    }

    #[test]
    fn autolinks_and_reference_uses_are_not_inline_links() {
        let text = "<https://example.org> <me@example.org> [x][gone] [y]\n";
        assert_eq!(seen(text), []);
    }
}
