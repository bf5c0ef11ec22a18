//! A counting semaphore that hands a freed permit to the waiter with the
//! highest priority (the longest chain of work behind it), so the critical
//! path is not stuck behind short branches when slots are scarce.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

pub struct PrioritySemaphore {
    inner: Mutex<Inner>,
}

struct Inner {
    available: usize,
    waiters: BinaryHeap<Waiter>,
    next_seq: u64,
}

struct Waiter {
    priority: u64,
    /// Equal priorities are served first come, first served.
    seq: Reverse<u64>,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.priority, self.seq).cmp(&(other.priority, other.seq))
    }
}

/// Held while an operation runs; the slot is handed on when it drops.
pub struct Permit {
    sem: Arc<PrioritySemaphore>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.sem.release();
    }
}

/// A place in the queue, taken synchronously; `wait` turns it into a permit.
pub struct Ticket {
    sem: Arc<PrioritySemaphore>,
    woken: Option<oneshot::Receiver<()>>,
}

impl Ticket {
    pub async fn wait(mut self) -> Permit {
        if let Some(woken) = self.woken.take() {
            // The sender is only dropped after handing over a slot.
            let _ = woken.await;
        }
        Permit { sem: self.sem.clone() }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        // Dropped unused: give back a slot that was already handed to us.
        if let Some(mut woken) = self.woken.take() {
            woken.close();
            if woken.try_recv().is_ok() {
                self.sem.release();
            }
        }
    }
}

impl PrioritySemaphore {
    pub fn new(permits: usize) -> Arc<Self> {
        Arc::new(PrioritySemaphore {
            inner: Mutex::new(Inner { available: permits, waiters: BinaryHeap::new(), next_seq: 0 }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Join the queue now; nothing is handed out until `dispatch` or a release.
    pub fn enqueue(self: &Arc<Self>, priority: u64) -> Ticket {
        let (wake, woken) = oneshot::channel();
        let mut inner = self.lock();
        let seq = Reverse(inner.next_seq);
        inner.next_seq += 1;
        inner.waiters.push(Waiter { priority, seq, wake });
        Ticket { sem: self.clone(), woken: Some(woken) }
    }

    /// Hand free slots to the highest-priority waiters.
    pub fn dispatch(&self) {
        self.lock().dispatch();
    }

    pub async fn acquire(self: &Arc<Self>, priority: u64) -> Permit {
        let ticket = self.enqueue(priority);
        if self.lock().available > 0 {
            // Let operations that became ready at the same moment queue up
            // too, so a free slot goes to the most important of them.
            tokio::task::yield_now().await;
            self.dispatch();
        }
        ticket.wait().await
    }

    fn release(&self) {
        let mut inner = self.lock();
        inner.available += 1;
        inner.dispatch();
    }
}

impl Inner {
    fn dispatch(&mut self) {
        while self.available > 0 {
            let Some(w) = self.waiters.pop() else { return };
            // A waiter that gave up leaves its slot for the next one.
            if w.wake.send(()).is_ok() {
                self.available -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn queued_tickets_are_served_by_priority() {
        let sem = PrioritySemaphore::new(1);
        let tickets = [("low", sem.enqueue(1)), ("high", sem.enqueue(9)), ("mid", sem.enqueue(5))];
        sem.dispatch();
        let mut order = Vec::new();
        let mut pending: Vec<_> = tickets.into_iter().map(|(n, t)| (n, Some(t))).collect();
        // Whoever was handed the slot finishes first, then hands it on.
        for _ in 0..3 {
            for (name, t) in pending.iter_mut() {
                let Some(ticket) = t.take() else { continue };
                let granted = ticket.woken.as_ref().is_some_and(|w| !w.is_empty());
                if granted {
                    drop(ticket.wait().await);
                    order.push(*name);
                    break;
                }
                *t = Some(ticket);
            }
        }
        assert_eq!(order, vec!["high", "mid", "low"]);
    }

    #[tokio::test]
    async fn a_dropped_ticket_gives_its_slot_back() {
        let sem = PrioritySemaphore::new(1);
        let t = sem.enqueue(1);
        sem.dispatch();
        drop(t);
        let _p = sem.acquire(0).await;
    }

    #[tokio::test]
    async fn the_highest_priority_waiter_gets_the_freed_slot() {
        let sem = PrioritySemaphore::new(1);
        let held = sem.acquire(0).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, prio) in [("low", 1), ("high", 9), ("mid", 5)] {
            let (s, o) = (sem.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _p = s.acquire(prio).await;
                o.lock().unwrap().push(name);
            }));
            tokio::task::yield_now().await;
        }
        // Let every waiter queue before the slot frees.
        while sem.lock().waiters.len() < 3 {
            tokio::task::yield_now().await;
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec!["high", "mid", "low"]);
    }
}
