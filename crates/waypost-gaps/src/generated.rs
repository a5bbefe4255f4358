//! Generated files and the record of what they were generated from.
//!
//! A project declares its generated files in the `[[scan.generated]]` tables
//! of `waypost.toml`: the output, the globs of its inputs, and the command
//! that regenerates it. The generator writes a marker line into the output:
//!
//! ```text
//! waypost-generated-from: sha256:<64 hex digits>
//! ```
//!
//! anywhere in the file (a Markdown or HTML comment, a JSON `$comment`, a
//! source comment), where the digest is [`inputs_digest`] of the inputs as
//! they were. The scanner recomputes the digest from the files it walks and
//! reports the output as stale when the two differ. Nothing is run: the
//! check is read-only and gives the same answer for the same tree.
//!
//! Generators written in Rust call [`inputs_digest`] and [`marker`]; others
//! run `waypost generated OUTPUT`, which prints the marker line.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};
use waypost_schemas::canonical::hex;
use waypost_schemas::io::Links;
use waypost_schemas::paths::{PatternSet, RepoPath};

/// What precedes the digest in a generated file.
pub const MARKER_PREFIX: &str = "waypost-generated-from: sha256:";

pub use waypost_schemas::config::GeneratedFile;

/// Whether `path` is one of `generated`'s inputs (`set` is its
/// [`GeneratedFile::input_set`]); the output never is.
pub(crate) fn is_input(generated: &GeneratedFile, set: &PatternSet, path: &str) -> bool {
    path != generated.output && RepoPath::new(path).is_ok_and(|p| set.matching(&p).is_some())
}

/// The marker line for `digest` (what [`inputs_digest`] returns).
pub fn marker(digest: &str) -> String {
    format!("{MARKER_PREFIX}{digest}")
}

/// The digest a generated file records, if it has a marker.
pub fn recorded_digest(text: &[u8]) -> Option<String> {
    let at = memchr::memmem::find(text, MARKER_PREFIX.as_bytes())?;
    let digest = text.get(at + MARKER_PREFIX.len()..at + MARKER_PREFIX.len() + 64)?;
    digest
        .iter()
        .all(u8::is_ascii_hexdigit)
        .then(|| String::from_utf8_lossy(digest).to_ascii_lowercase())
}

/// Builds the digest of a set of input files, in any order.
#[derive(Clone, Debug, Default)]
pub struct InputsDigest {
    files: BTreeMap<String, [u8; 32]>,
}

impl InputsDigest {
    /// Adds one input file's content.
    pub fn add(&mut self, path: &str, content: &[u8]) {
        self.add_hashed(path, content_digest(content));
    }

    /// Adds one input file by its [`content_digest`] (hashed elsewhere, for
    /// example outside a lock).
    pub fn add_hashed(&mut self, path: &str, digest: [u8; 32]) {
        self.files.insert(path.to_owned(), digest);
    }

    /// How many inputs were added.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no input was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// SHA-256 (hex) over each input's path and content digest, in path order.
    pub fn finish(&self) -> String {
        let mut hasher = Sha256::new();
        for (path, content) in &self.files {
            hasher.update(path.as_bytes());
            hasher.update([0]);
            hasher.update(content);
        }
        hex(&hasher.finalize())
    }
}

/// SHA-256 of one input file's content.
pub fn content_digest(content: &[u8]) -> [u8; 32] {
    Sha256::digest(content).into()
}

/// SHA-256 of the regular file at `path`, read in pieces (any size, never
/// through a link, never from a FIFO or device).
pub fn file_digest(path: &Path) -> Result<[u8; 32], String> {
    use std::io::Read;
    let (mut file, _) =
        waypost_schemas::io::open_regular(path, Links::Refuse).map_err(|e| e.to_string())?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    Ok(hasher.finalize().into())
}

/// The digest of `generated`'s inputs under `root`: the files the scanner
/// walks (`.gitignore` respected, `.git` left out) that match its input
/// globs, the output itself excluded.
pub fn inputs_digest(root: &Path, generated: &GeneratedFile) -> Result<String, String> {
    let set = generated.input_set()?;
    let mut digest = InputsDigest::default();
    let (walk, _refused) = crate::engine::walker(root)?;
    for entry in walk.build() {
        let entry = entry.map_err(|e| e.to_string())?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(path) = crate::engine::relative_path(root, entry.path()) else {
            continue;
        };
        if is_input(generated, &set, &path) {
            digest.add_hashed(&path, file_digest(entry.path())?);
        }
    }
    Ok(digest.finish())
}
