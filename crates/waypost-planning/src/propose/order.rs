//! Dependencies between actions, and their order.
//!
//! Two rules make the edges of a DAG (built with `petgraph`):
//!
//! 1. **Shared targets.** Actions that touch the same path run one after
//!    the other, in this order of types: `git_operation` (the repository's
//!    state first), `file_delete`, `doc_update` and `tidy_apply` (edit a
//!    file before moving it), the other typed actions, `file_move`, then
//!    `custom`; within a type, by priority.
//! 2. **Links to moved files.** A `doc_update` whose new reference names
//!    the destination of a `file_move` runs after that move.
//!
//! A cycle between them is a [`ProposeError::Cycle`] naming its actions.
//! Otherwise actions are ordered topologically, and among those ready at
//! once the one of higher priority (the order they arrive in) goes first,
//! so the order is deterministic.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use waypost_schemas::ActionType;

use super::ProposeError;
use super::candidates::Candidate;

/// Where a type runs among actions on one path.
fn rank(action_type: ActionType) -> u8 {
    match action_type {
        ActionType::GitOperation => 0,
        ActionType::FileDelete => 1,
        ActionType::DocUpdate | ActionType::TidyApply => 2,
        ActionType::TestFix
        | ActionType::BaselineRefresh
        | ActionType::ConfigUpdate
        | ActionType::DependencyInstall => 3,
        ActionType::FileMove => 4,
        ActionType::Custom => 5,
    }
}

/// `path` joined onto the folder of `doc`, `.` and `..` resolved; `None`
/// when it climbs out of the repository.
fn resolve(doc: &str, reference: &str) -> Option<String> {
    let mut parts: Vec<&str> = match doc.rfind('/') {
        Some(i) => doc[..i].split('/').collect(),
        None => Vec::new(),
    };
    for part in reference.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// The prerequisites of each item (indices into `items`), by the two rules.
pub fn edges(items: &[&Candidate]) -> BTreeSet<(usize, usize)> {
    let mut out = BTreeSet::new();
    let mut by_path: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in items.iter().enumerate() {
        for path in &c.target_paths {
            by_path.entry(path.as_str()).or_default().push(i);
        }
    }
    for users in by_path.values_mut() {
        users.sort_by_key(|&i| (rank(items[i].action_type), i));
        users.dedup();
        for pair in users.windows(2) {
            out.insert((pair[0], pair[1]));
        }
    }
    let mut moved_to: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in items.iter().enumerate() {
        for m in &c.moves {
            moved_to.entry(m.to.as_str()).or_default().push(i);
        }
    }
    for (i, c) in items.iter().enumerate() {
        if c.action_type != ActionType::DocUpdate {
            continue;
        }
        for edit in &c.edits {
            let Some(target) = resolve(&edit.path, &edit.new_text) else {
                continue;
            };
            for &mover in moved_to.get(target.as_str()).into_iter().flatten() {
                if mover != i {
                    out.insert((mover, i));
                }
            }
        }
    }
    out
}

/// `items` (in priority order, each with what the caller keeps beside it)
/// ordered topologically, each with the positions, in the output, of the
/// items it depends on.
///
/// # Errors
/// [`ProposeError::Cycle`] when the dependencies go round.
pub fn order<T>(
    items: Vec<(Candidate, T)>,
) -> Result<Vec<(Candidate, T, Vec<usize>)>, ProposeError> {
    let candidates: Vec<&Candidate> = items.iter().map(|(c, _)| c).collect();
    let edges = edges(&candidates);
    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(items.len(), edges.len());
    let nodes: Vec<NodeIndex> = (0..items.len()).map(|i| graph.add_node(i)).collect();
    for &(from, to) in &edges {
        graph.add_edge(nodes[from], nodes[to], ());
    }
    if toposort(&graph, None).is_err() {
        let cycle = tarjan_scc(&graph)
            .into_iter()
            .filter(|scc| scc.len() > 1)
            .min_by_key(|scc| scc.iter().map(|n| graph[*n]).min())
            .unwrap_or_default();
        let mut members: Vec<usize> = cycle.iter().map(|n| graph[*n]).collect();
        members.sort_unstable();
        return Err(ProposeError::Cycle {
            actions: members
                .into_iter()
                .map(|i| candidates[i].title.clone())
                .collect(),
        });
    }
    // Kahn's algorithm, the ready item of highest priority first.
    let mut waiting: Vec<usize> = vec![0; items.len()];
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    let mut before: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    for &(from, to) in &edges {
        waiting[to] += 1;
        after[from].push(to);
        before[to].push(from);
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..items.len())
        .filter(|&i| waiting[i] == 0)
        .map(Reverse)
        .collect();
    let mut sequence = Vec::with_capacity(items.len());
    while let Some(Reverse(i)) = ready.pop() {
        sequence.push(i);
        for &next in &after[i] {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.push(Reverse(next));
            }
        }
    }
    let mut position = vec![0; items.len()];
    for (at, &i) in sequence.iter().enumerate() {
        position[i] = at;
    }
    let mut slots: Vec<Option<(Candidate, T)>> = items.into_iter().map(Some).collect();
    Ok(sequence
        .iter()
        .map(|&i| {
            let (candidate, kept) = slots[i].take().expect("each item is placed once");
            let mut prerequisites: Vec<usize> = before[i].iter().map(|&p| position[p]).collect();
            prerequisites.sort_unstable();
            (candidate, kept, prerequisites)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn references_resolve_from_the_document_folder() {
        assert_eq!(resolve("docs/a.md", "../b.md").as_deref(), Some("b.md"));
        assert_eq!(
            resolve("docs/a.md", "./sub/c.md").as_deref(),
            Some("docs/sub/c.md")
        );
        assert_eq!(resolve("a.md", "../x.md"), None);
    }
}
