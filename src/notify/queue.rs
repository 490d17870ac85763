//! A bounded queue that never blocks its writer: past its capacity the oldest
//! event is dropped (and counted), since the newest says what is true now.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;

/// A drop-oldest queue with one reader.
#[derive(Debug)]
pub struct Queue<T> {
    items: Mutex<VecDeque<T>>,
    cap: usize,
    ready: Notify,
}

impl<T> Queue<T> {
    /// An empty queue holding at most `cap` items.
    pub fn new(cap: usize) -> Queue<T> {
        Queue {
            items: Mutex::new(VecDeque::with_capacity(cap.min(1024))),
            cap: cap.max(1),
            ready: Notify::new(),
        }
    }

    /// Appends an item; returns how many old ones were dropped to make room
    /// and the length after.
    pub fn push(&self, item: T) -> (usize, usize) {
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        let mut dropped = 0;
        while items.len() >= self.cap {
            items.pop_front();
            dropped += 1;
        }
        items.push_back(item);
        let len = items.len();
        drop(items);
        self.ready.notify_one();
        (dropped, len)
    }

    /// Waits for the oldest item.
    pub async fn pop(&self) -> T {
        loop {
            let ready = self.ready.notified();
            if let Some(item) = self.items.lock().unwrap_or_else(|e| e.into_inner()).pop_front() {
                return item;
            }
            ready.await;
        }
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.items.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_queue_drops_the_oldest() {
        let q = Queue::new(2);
        assert_eq!(q.push(1), (0, 1));
        assert_eq!(q.push(2), (0, 2));
        assert_eq!(q.push(3), (1, 2));
        assert_eq!(q.pop().await, 2);
        assert_eq!(q.pop().await, 3);
        assert!(q.is_empty());
    }
}
