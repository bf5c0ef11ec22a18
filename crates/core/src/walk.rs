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
) -> Vec<NodeStatus>
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
    loop {
        while let Some((_, std::cmp::Reverse(i))) = ready.pop() {
            if stop.load(Ordering::SeqCst) {
                status[i] = NodeStatus::Skipped;
                continue;
            }
            let ticket = gate.as_ref().filter(|_| graph.weight[i] > 0).map(|g| g.enqueue(prio[i]));
            let fut = run(i, ticket);
            running.spawn(async move { (i, fut.await) });
        }
        if let Some(g) = &gate {
            g.dispatch();
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (i, ok) = match joined {
            Ok(r) => r,
            // A panicking node is a bug; treat it as a failure of an unknown node.
            Err(_) => continue,
        };
        status[i] = if ok { NodeStatus::Done } else { NodeStatus::Failed };
        if ok {
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
    status
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
        .await;
        assert!(status.iter().all(|s| *s == NodeStatus::Done));
        let order = order.lock().unwrap().clone();
        let pos = |x| order.iter().position(|&y| y == x).unwrap();
        assert!(pos(0) < pos(1) && pos(1) < pos(2) && pos(0) < pos(3));
    }

    #[tokio::test]
    async fn failure_skips_only_dependents() {
        let g = chain_and_fan();
        let status = walk(&g, Arc::new(AtomicBool::new(false)), None, |i, _| async move { i != 1 }).await;
        assert_eq!(
            status,
            vec![NodeStatus::Done, NodeStatus::Failed, NodeStatus::Skipped, NodeStatus::Done, NodeStatus::Done]
        );
    }

    #[test]
    fn longest_chain_has_highest_priority() {
        let p = chain_and_fan().priorities();
        assert_eq!(p, vec![3, 2, 1, 1, 1]);
    }
}
