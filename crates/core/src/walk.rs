//! A parallel walk over a DAG: a ready-queue in the shape of cargo's
//! DependencyQueue. Ready nodes start in order of the longest chain of work
//! behind them; a failed node's dependents are skipped, the rest go on.

use crate::priority::{PrioritySemaphore, Ticket};
use std::collections::BinaryHeap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::task::JoinSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    Pending,
    Done,
    Failed,
    /// The node's task panicked (a bug): a failure that names itself.
    Panicked,
    /// A dependency failed, or the walk was stopped before this node began.
    Skipped,
}

/// Nodes are indexes `0..n`; `deps[i]` are the nodes `i` waits for.
pub struct WalkGraph {
    pub deps: Vec<Vec<usize>>,
    /// The cost of a node itself (e.g. 1 when it calls a provider, 0 when it only evaluates).
    pub weight: Vec<u64>,
}

impl WalkGraph {
    pub fn new(n: usize) -> Self {
        WalkGraph { deps: vec![Vec::new(); n], weight: vec![1; n] }
    }

    pub fn len(&self) -> usize {
        self.deps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.deps.is_empty()
    }

    fn dependents(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.len()];
        for (i, ds) in self.deps.iter().enumerate() {
            for &d in ds {
                out[d].push(i);
            }
        }
        out
    }

    /// For each node, its weight plus the heaviest chain of dependents after it.
    pub fn priorities(&self) -> Vec<u64> {
        let dependents = self.dependents();
        let mut remaining: Vec<usize> = dependents.iter().map(Vec::len).collect();
        let mut prio = self.weight.clone();
        // Kahn's order from the sinks backwards.
        let mut stack: Vec<usize> = (0..self.len()).filter(|&i| remaining[i] == 0).collect();
        while let Some(n) = stack.pop() {
            for &d in &self.deps[n] {
                prio[d] = prio[d].max(self.weight[d] + prio[n]);
                remaining[d] -= 1;
                if remaining[d] == 0 {
                    stack.push(d);
                }
            }
        }
        prio
    }
}

/// What a walk did: each node's status, and the message of each panic.
pub struct WalkOutcome {
    pub status: Vec<NodeStatus>,
    pub panics: Vec<(usize, String)>,
}

impl WalkOutcome {
    /// Nodes skipped because something they depend on failed or panicked
    /// (not because the walk was stopped).
    pub fn skipped_by_failure(&self, graph: &WalkGraph) -> Vec<usize> {
        let failed = |i: usize| matches!(self.status[i], NodeStatus::Failed | NodeStatus::Panicked);
        let mut out = Vec::new();
        let mut seen = vec![false; graph.len()];
        let dependents = graph.dependents();
        let mut stack: Vec<usize> = (0..graph.len()).filter(|&i| failed(i)).collect();
        while let Some(n) = stack.pop() {
            for &d in &dependents[n] {
                if !seen[d] && self.status[d] == NodeStatus::Skipped {
                    seen[d] = true;
                    out.push(d);
                    stack.push(d);
                }
            }
        }
        out.sort_unstable();
        out
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    if e.is_cancelled() {
        return "the task was cancelled".into();
    }
    let payload = e.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".into())
}

/// Run `run(node, ticket)` for every node once its dependencies are done.
/// `run` returns whether the node succeeded. `stop` set to true starts no new
/// node. With a `gate`, every node of non-zero weight gets a place in the
/// gate's queue before any of the nodes that became ready with it is handed a
/// slot, so slots go to the longest remaining chains first.
pub async fn walk<F, Fut>(
    graph: &WalkGraph,
    stop: Arc<AtomicBool>,
    gate: Option<Arc<PrioritySemaphore>>,
    run: F,
) -> WalkOutcome
where
    F: Fn(usize, Option<Ticket>) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let n = graph.len();
    let dependents = graph.dependents();
    let prio = graph.priorities();
    let mut waiting: Vec<usize> = graph.deps.iter().map(Vec::len).collect();
    let mut status = vec![NodeStatus::Pending; n];
    let mut ready: BinaryHeap<(u64, std::cmp::Reverse<usize>)> =
        (0..n).filter(|&i| waiting[i] == 0).map(|i| (prio[i], std::cmp::Reverse(i))).collect();
    let mut running: JoinSet<(usize, bool)> = JoinSet::new();
    // A panicking task loses its return value: its task id still names the node.
    let mut task_node: std::collections::HashMap<tokio::task::Id, usize> = std::collections::HashMap::new();
    let mut panics = Vec::new();
    loop {
        while let Some((_, std::cmp::Reverse(i))) = ready.pop() {
            if stop.load(Ordering::SeqCst) {
                status[i] = NodeStatus::Skipped;
                continue;
            }
            let ticket = gate.as_ref().filter(|_| graph.weight[i] > 0).map(|g| g.enqueue(prio[i]));
            let fut = run(i, ticket);
            let handle = running.spawn(async move { (i, fut.await) });
            task_node.insert(handle.id(), i);
        }
        if let Some(g) = &gate {
            g.dispatch();
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (i, done) = match joined {
            Ok((i, true)) => (i, NodeStatus::Done),
            Ok((i, false)) => (i, NodeStatus::Failed),
            Err(e) => {
                let Some(&i) = task_node.get(&e.id()) else { continue };
                panics.push((i, panic_message(e)));
                (i, NodeStatus::Panicked)
            }
        };
        status[i] = done;
        if done == NodeStatus::Done {
            for &d in &dependents[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 && status[d] == NodeStatus::Pending {
                    ready.push((prio[d], std::cmp::Reverse(d)));
                }
            }
        } else {
            let mut stack = dependents[i].clone();
            while let Some(d) = stack.pop() {
                if status[d] == NodeStatus::Pending {
                    status[d] = NodeStatus::Skipped;
                    stack.extend(dependents[d].iter().copied());
                }
            }
        }
    }
    for s in status.iter_mut() {
        if *s == NodeStatus::Pending {
            *s = NodeStatus::Skipped;
        }
    }
    WalkOutcome { status, panics }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn chain_and_fan() -> WalkGraph {
        // 0 -> 1 -> 2, 0 -> 3, 4 alone
        let mut g = WalkGraph::new(5);
        g.deps[1] = vec![0];
        g.deps[2] = vec![1];
        g.deps[3] = vec![0];
        g
    }

    #[tokio::test]
    async fn runs_in_dependency_order() {
        let g = chain_and_fan();
        let order = Arc::new(Mutex::new(Vec::new()));
        let o = order.clone();
        let status = walk(&g, Arc::new(AtomicBool::new(false)), None, move |i, _| {
            let o = o.clone();
            async move {
                o.lock().unwrap().push(i);
                true
            }
        })
        .await
        .status;
        assert!(status.iter().all(|s| *s == NodeStatus::Done));
        let order = order.lock().unwrap().clone();
        let pos = |x| order.iter().position(|&y| y == x).unwrap();
        assert!(pos(0) < pos(1) && pos(1) < pos(2) && pos(0) < pos(3));
    }

    #[tokio::test]
    async fn failure_skips_only_dependents() {
        let g = chain_and_fan();
        let status = walk(&g, Arc::new(AtomicBool::new(false)), None, |i, _| async move { i != 1 }).await.status;
        assert_eq!(
            status,
            vec![NodeStatus::Done, NodeStatus::Failed, NodeStatus::Skipped, NodeStatus::Done, NodeStatus::Done]
        );
    }

    #[tokio::test]
    async fn a_panicking_node_is_named_and_its_dependents_skipped() {
        let g = chain_and_fan();
        let out = walk(&g, Arc::new(AtomicBool::new(false)), None, |i, _| async move {
            if i == 1 {
                panic!("boom in node one");
            }
            true
        })
        .await;
        assert_eq!(out.status[1], NodeStatus::Panicked);
        assert_eq!(out.panics, vec![(1, "boom in node one".to_string())]);
        assert_eq!(out.skipped_by_failure(&g), vec![2]);
        assert_eq!(out.status[3], NodeStatus::Done);
    }

    #[test]
    fn longest_chain_has_highest_priority() {
        let p = chain_and_fan().priorities();
        assert_eq!(p, vec![3, 2, 1, 1, 1]);
    }
}
