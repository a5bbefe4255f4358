//! The task graph: tasks, their dependencies and the files they touch, and
//! batching into layers under a concurrency limit and file conflicts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use waypost_schemas::layout::{IdError, IdKind, check_id};
use waypost_schemas::paths::RepoPath;

/// One task as the orchestrator describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskSpec {
    /// The task's key: unique in the graph and usable as a file name
    /// (`A-Z a-z 0-9 . _ -`).
    pub key: String,
    /// The keys of the tasks that must be done before this one starts.
    pub depends_on: Vec<String>,
    /// The files the task changes. Two tasks that touch the same file (as
    /// [`RepoPath::key`] folds it) never share a batch.
    pub files: Vec<RepoPath>,
}

impl TaskSpec {
    /// A task without dependencies or files.
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            depends_on: Vec::new(),
            files: Vec::new(),
        }
    }

    /// The same task, depending on `keys` as well.
    pub fn depends_on<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.depends_on.extend(keys.into_iter().map(Into::into));
        self
    }

    /// The same task, touching `files` as well.
    pub fn touches(mut self, files: impl IntoIterator<Item = RepoPath>) -> Self {
        self.files.extend(files);
        self
    }
}

/// A task graph that cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// A task key cannot name a task (it becomes a folder name).
    #[error("task key: {0}")]
    InvalidKey(#[from] IdError),
    /// Two tasks have the same key.
    #[error("task `{key}` is listed twice; task keys must be unique")]
    DuplicateTask {
        /// The key.
        key: String,
    },
    /// A dependency names no task of the graph.
    #[error("task `{task}` depends on `{dependency}`, which is not a task of the graph")]
    UnknownDependency {
        /// The task that names it.
        task: String,
        /// The unknown key.
        dependency: String,
    },
    /// The dependencies form a cycle, so no order runs every task.
    #[error(
        "task `{task}` depends on itself through a cycle of dependencies; remove one edge of the cycle"
    )]
    Cycle {
        /// A task on the cycle.
        task: String,
    },
}

/// Tasks, dependencies and files: a directed acyclic graph in which an edge
/// runs from a dependency to its dependent.
///
/// Nodes are numbered in task-key order, so every ordering by node is an
/// ordering by key and the graph built from the same tasks is the same
/// whatever order they were given in.
#[derive(Clone, Debug)]
pub struct TaskGraph {
    graph: DiGraph<String, ()>,
    /// Lookup only: nothing iterates it, so its order never shows.
    by_key: HashMap<String, NodeIndex>,
    /// Interned file keys per node, sorted and deduplicated.
    files: Vec<Vec<u32>>,
    /// The file behind each interned key, for messages.
    file_names: Vec<String>,
}

impl TaskGraph {
    /// Builds the graph, checking that keys are unique and usable, every
    /// dependency is a task, and there is no cycle.
    pub fn new(tasks: impl IntoIterator<Item = TaskSpec>) -> Result<Self, GraphError> {
        let mut tasks: Vec<TaskSpec> = tasks.into_iter().collect();
        tasks.sort_by(|a, b| a.key.cmp(&b.key));
        let mut graph = DiGraph::with_capacity(tasks.len(), tasks.len());
        let mut by_key = HashMap::with_capacity(tasks.len());
        for task in &tasks {
            check_id(IdKind::Task, &task.key)?;
            let node = graph.add_node(task.key.clone());
            if by_key.insert(task.key.clone(), node).is_some() {
                return Err(GraphError::DuplicateTask {
                    key: task.key.clone(),
                });
            }
        }
        let mut interned: BTreeMap<String, u32> = BTreeMap::new();
        let mut file_names = Vec::new();
        let mut files = Vec::with_capacity(tasks.len());
        for task in &tasks {
            let node = by_key[&task.key];
            let mut deps: Vec<NodeIndex> = Vec::with_capacity(task.depends_on.len());
            for dependency in &task.depends_on {
                let Some(&dep) = by_key.get(dependency) else {
                    return Err(GraphError::UnknownDependency {
                        task: task.key.clone(),
                        dependency: dependency.clone(),
                    });
                };
                deps.push(dep);
            }
            deps.sort();
            deps.dedup();
            for dep in deps {
                graph.add_edge(dep, node, ());
            }
            let mut ids: Vec<u32> = task
                .files
                .iter()
                .map(|file| {
                    let key = file.key().as_str().to_owned();
                    let next = u32::try_from(file_names.len()).unwrap_or(u32::MAX);
                    *interned.entry(key).or_insert_with(|| {
                        file_names.push(file.as_str().to_owned());
                        next
                    })
                })
                .collect();
            ids.sort_unstable();
            ids.dedup();
            files.push(ids);
        }
        if let Err(cycle) = petgraph::algo::toposort(&graph, None) {
            return Err(GraphError::Cycle {
                task: graph[cycle.node_id()].clone(),
            });
        }
        Ok(Self {
            graph,
            by_key,
            files,
            file_names,
        })
    }

    /// The number of tasks.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Whether the graph has no task.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Whether `key` is a task of the graph.
    pub fn contains(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    /// Every task key, sorted (nodes are numbered in key order).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.graph.node_weights().map(String::as_str)
    }

    /// The tasks `key` depends on directly, sorted; empty for an unknown key.
    pub fn dependencies(&self, key: &str) -> Vec<&str> {
        self.neighbours(key, Direction::Incoming)
    }

    /// The tasks that depend on `key` directly, sorted; empty for an
    /// unknown key.
    pub fn dependents(&self, key: &str) -> Vec<&str> {
        self.neighbours(key, Direction::Outgoing)
    }

    /// The files `key` touches, as given (sorted by their folded key).
    pub fn files(&self, key: &str) -> Vec<&str> {
        self.by_key
            .get(key)
            .map(|&node| {
                self.files[node.index()]
                    .iter()
                    .map(|&f| self.file_names[f as usize].as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn neighbours(&self, key: &str, direction: Direction) -> Vec<&str> {
        let Some(&node) = self.by_key.get(key) else {
            return Vec::new();
        };
        let mut out: Vec<&str> = self
            .graph
            .neighbors_directed(node, direction)
            .map(|n| self.graph[n].as_str())
            .collect();
        out.sort_unstable();
        out
    }

    /// The node of `key`.
    pub(crate) fn node(&self, key: &str) -> Option<usize> {
        self.by_key.get(key).map(|n| n.index())
    }

    /// The key of node `node`.
    pub(crate) fn key_of(&self, node: usize) -> &str {
        &self.graph[NodeIndex::new(node)]
    }

    /// The nodes `node` depends on.
    pub(crate) fn deps_of(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .neighbors_directed(NodeIndex::new(node), Direction::Incoming)
            .map(|n| n.index())
    }

    /// The nodes that depend on `node`.
    pub(crate) fn dependents_of(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .neighbors_directed(NodeIndex::new(node), Direction::Outgoing)
            .map(|n| n.index())
    }

    /// The interned files of `node`.
    pub(crate) fn file_ids(&self, node: usize) -> &[u32] {
        &self.files[node]
    }

    /// The file behind an interned id.
    pub(crate) fn file_name(&self, id: u32) -> &str {
        &self.file_names[id as usize]
    }

    /// The number of distinct files.
    pub(crate) fn file_count(&self) -> usize {
        self.file_names.len()
    }

    /// Puts `pending` into batches: a task joins a batch only once every
    /// dependency it has among `pending` sits in an earlier batch (a
    /// dependency outside `pending` counts as done), a batch holds at most
    /// `limit` tasks (at least 1) and no two tasks touching the same file,
    /// and a task in `serial` runs alone, after every other task that is
    /// ready at that point. Keys that are not tasks are ignored.
    ///
    /// Greedy and deterministic: each batch takes the ready tasks in key
    /// order. Time is O(n + e + f) when conflicts are rare (the ready set
    /// is a bitset in node order); a task passed over for a conflict is
    /// looked at again for the next batch.
    pub fn batches(
        &self,
        pending: &BTreeSet<String>,
        serial: &BTreeSet<String>,
        limit: usize,
    ) -> Vec<Vec<String>> {
        let n = self.len();
        let mut is_pending = vec![false; n];
        let mut is_serial = vec![false; n];
        for key in pending {
            if let Some(node) = self.node(key) {
                is_pending[node] = true;
            }
        }
        for key in serial {
            if let Some(node) = self.node(key) {
                is_serial[node] = true;
            }
        }
        self.batches_of(&is_pending, &is_serial, limit)
            .into_iter()
            .map(|batch| {
                batch
                    .into_iter()
                    .map(|node| self.key_of(node).to_owned())
                    .collect()
            })
            .collect()
    }

    /// [`TaskGraph::batches`] on node flags.
    pub(crate) fn batches_of(
        &self,
        pending: &[bool],
        serial: &[bool],
        limit: usize,
    ) -> Vec<Vec<usize>> {
        let limit = limit.max(1);
        let n = self.len();
        let mut waiting_on = vec![0usize; n];
        // Ready tasks in key order; serial ones apart, taken only when no
        // other task is ready.
        let mut ready = ReadySet::new(n);
        let mut ready_serial = ReadySet::new(n);
        for node in (0..n).filter(|&node| pending[node]) {
            waiting_on[node] = self.deps_of(node).filter(|&d| pending[d]).count();
            if waiting_on[node] == 0 {
                if serial[node] {
                    ready_serial.insert(node);
                } else {
                    ready.insert(node);
                }
            }
        }
        // file_mark[f] == round when file f is taken in this round's batch.
        let mut file_mark = vec![0usize; self.file_count()];
        let mut batches = Vec::new();
        let mut round = 0usize;
        while !(ready.is_empty() && ready_serial.is_empty()) {
            round += 1;
            let mut batch: Vec<usize> = Vec::new();
            let mut next = ready.first_from(0);
            while let Some(node) = next {
                if batch.len() >= limit {
                    break;
                }
                next = ready.first_from(node + 1);
                let files = self.file_ids(node);
                if files.iter().any(|&f| file_mark[f as usize] == round) {
                    continue;
                }
                for &f in files {
                    file_mark[f as usize] = round;
                }
                batch.push(node);
            }
            if batch.is_empty() {
                // Nothing else is ready: the first serial task runs alone.
                if let Some(node) = ready_serial.first_from(0) {
                    ready_serial.remove(node);
                    batch.push(node);
                }
            } else {
                for &node in &batch {
                    ready.remove(node);
                }
            }
            for &node in &batch {
                for dependent in self.dependents_of(node) {
                    if pending[dependent] {
                        waiting_on[dependent] -= 1;
                        if waiting_on[dependent] == 0 {
                            if serial[dependent] {
                                ready_serial.insert(dependent);
                            } else {
                                ready.insert(dependent);
                            }
                        }
                    }
                }
            }
            batches.push(batch);
        }
        batches
    }
}

/// A set of nodes kept in node order: a bitset with a summary word per 64
/// words, so inserting, removing and finding the next node from a position
/// take a few word operations (for up to 262 144 nodes; beyond, the
/// summary is scanned 64 words at a time).
#[derive(Debug)]
struct ReadySet {
    words: Vec<u64>,
    /// Bit w is set when `words[w]` is not zero.
    summary: Vec<u64>,
    len: usize,
}

impl ReadySet {
    fn new(n: usize) -> Self {
        let words = n.div_ceil(64);
        Self {
            words: vec![0; words],
            summary: vec![0; words.div_ceil(64)],
            len: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn insert(&mut self, node: usize) {
        let (w, bit) = (node / 64, 1u64 << (node % 64));
        if self.words[w] & bit == 0 {
            self.words[w] |= bit;
            self.summary[w / 64] |= 1u64 << (w % 64);
            self.len += 1;
        }
    }

    fn remove(&mut self, node: usize) {
        let (w, bit) = (node / 64, 1u64 << (node % 64));
        if self.words[w] & bit != 0 {
            self.words[w] &= !bit;
            if self.words[w] == 0 {
                self.summary[w / 64] &= !(1u64 << (w % 64));
            }
            self.len -= 1;
        }
    }

    /// The first node at or after `from`.
    fn first_from(&self, from: usize) -> Option<usize> {
        let w = from / 64;
        let in_word = self.words.get(w)? & (!0u64 << (from % 64));
        if in_word != 0 {
            return Some(w * 64 + in_word.trailing_zeros() as usize);
        }
        let next_word = w + 1;
        let mut s = next_word / 64;
        let mut bits = self.summary.get(s)? & (!0u64 << (next_word % 64));
        loop {
            if bits != 0 {
                let w = s * 64 + bits.trailing_zeros() as usize;
                return Some(w * 64 + self.words[w].trailing_zeros() as usize);
            }
            s += 1;
            bits = *self.summary.get(s)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ReadySet;

    #[test]
    fn the_ready_set_finds_the_next_node_across_words_and_summaries() {
        let n = 300_000;
        let mut set = ReadySet::new(n);
        assert_eq!(set.first_from(0), None);
        for node in [3, 64, 4095, 4096, 262_143, 262_144, 299_999] {
            set.insert(node);
        }
        set.insert(64);
        let mut seen = Vec::new();
        let mut next = set.first_from(0);
        while let Some(node) = next {
            seen.push(node);
            next = set.first_from(node + 1);
        }
        assert_eq!(seen, vec![3, 64, 4095, 4096, 262_143, 262_144, 299_999]);
        set.remove(4095);
        set.remove(4096);
        set.remove(4096);
        assert_eq!(set.first_from(65), Some(262_143));
        assert_eq!(set.first_from(n), None);
        for node in [3, 64, 262_143, 262_144, 299_999] {
            set.remove(node);
        }
        assert!(set.is_empty());
        assert_eq!(set.first_from(0), None);
    }
}
